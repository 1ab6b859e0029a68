"""`reconcile report` end to end against waldur-sim: what it reads, its options, its Markdown.

(The HTML report in a browser: tests/browser/test_report_page.py.)
"""

from __future__ import annotations

from tests.browser.drift import add_package, delete_target

from .harness import ROOT, reconcile, write_yaml

EXAMPLE = ROOT / "examples" / "targets.yaml"


def other_catalog(tmp_path):
    return write_yaml(
        tmp_path / "other.yaml",
        {
            "catalogs": [
                {
                    "name": "Spack",
                    "version": "0.22",
                    "catalog_type": "source_package",
                    "packages": [
                        {
                            "name": "zlib",
                            "versions": [
                                {
                                    "version": "1.3",
                                    "targets": [{"architecture": "riscv64/generic"}],
                                }
                            ],
                        }
                    ],
                }
            ]
        },
    )


def test_markdown_marks_what_changed_behind_the_reconcilers_back(sim, tmp_path):
    server = sim()
    assert reconcile(server, "apply", "-f", str(EXAMPLE)).returncode == 0
    assert reconcile(server, "apply", "-f", str(other_catalog(tmp_path))).returncode == 0
    delete_target(server.api_url, server.staff_token, "GROMACS", "2024.4", "amd/zen3")
    add_package(server.api_url, server.staff_token, "EESSI", "Not|Declared")

    done = reconcile(server, "report", "-f", str(EXAMPLE), "--format", "markdown", token=None)
    assert done.returncode == 0, done.stderr
    text = done.stdout
    assert text.startswith("# Software catalog coverage\n")
    assert "## EESSI 2023.06" in text and "Spack" not in text  # only the declared catalogs
    assert (
        "**Differences**: ✗ 1 target: declared in the files, missing on the server; "
        "+ 1 package: on the server, not declared in the files." in text
    )
    lines = text.splitlines()
    head = next(line for line in lines if line.startswith("| package |"))
    assert head == (
        "| package | `aarch64/neoverse_v1` | `x86_64/generic` | `x86_64/amd/zen3` | "
        "`x86_64/intel/icelake` |"
    )
    gromacs = next(line for line in lines if line.startswith("| **GROMACS**"))
    assert gromacs == (
        "| **GROMACS** (2 versions) | ✓ 2/2 | ✓ 2/2 | 1/2: 2024.1<br>✗ missing: 2024.4 | ✓ 2/2 |"
    )
    assert "| **Not\\|Declared** + | · | · | · | · |" in lines
    zen3 = next(line for line in lines if line.startswith("| `x86_64/amd/zen3` |"))
    assert zen3 == "| `x86_64/amd/zen3` | 5 | 83% | 10 | 83% | 1 | 0 |"


def test_every_catalog_without_files_and_the_options(sim, tmp_path):
    server = sim()
    assert reconcile(server, "apply", "-f", str(EXAMPLE)).returncode == 0
    assert reconcile(server, "apply", "-f", str(other_catalog(tmp_path))).returncode == 0

    # Without -f: every catalog, nothing compared; HTML on standard output by default.
    done = reconcile(server, "report", token=None)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("<!DOCTYPE html>")
    assert "EESSI 2023.06" in done.stdout and "Spack 0.22 [source_package]" in done.stdout
    assert "not compared with any file" in done.stdout and "Differences" not in done.stdout

    # --catalog picks; --out FILE.md means Markdown; a summary line on stderr.
    out = tmp_path / "spack.md"
    done = reconcile(server, "report", "--catalog", "Spack@0.22", "--out", str(out))
    assert done.returncode == 0, done.stderr
    text = out.read_text()
    assert "## Spack 0.22 \\[source_package\\]" in text and "EESSI" not in text
    assert "| **zlib** 1.3 | ✓ |" in text
    assert done.stderr == f"Wrote the markdown coverage report of 1 catalog(s) to {out}.\n"

    # Mistakes are said plainly.
    done = reconcile(server, "report", "--catalog", "Nope")
    assert done.returncode == 1 and "no catalog matches Nope" in done.stderr
    done = reconcile(server, "report", "-o", "report.html")
    assert done.returncode == 1
    assert "report takes --format html|markdown and writes a file with --out FILE" in done.stderr
    done = reconcile(server, "report", "--format", "pdf")
    assert done.returncode == 1 and "invalid choice: 'pdf'" in done.stderr
    assert server.staff_token not in done.stdout + done.stderr
