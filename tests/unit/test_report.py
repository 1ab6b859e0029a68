"""The coverage report offline: the model from records, and its HTML and Markdown renderings.

(The report as a person sees it in a browser, made by the real command against waldur-sim, is
tested in tests/browser/.)
"""

from __future__ import annotations

import base64
import hashlib
import re
from html.parser import HTMLParser

from reconciler.core.model import Key, Kind, ObservedState, Record
from reconciler.desired.loader import load_desired
from reconciler.output import report_markdown
from reconciler.output.page import policy
from reconciler.output.report import Mark, architecture, build_report, natural, percent
from reconciler.output.report_html import SCRIPT, render_html
from reconciler.output.report_markdown import md, render_markdown
from tests.e2e.harness import write_yaml

STRANGE = "<script>alert('x')</script> | *bold* _é_ `tick` 🧬"


def desired_doc(packages=None):
    return {
        "catalogs": [
            {
                "name": "Cat",
                "version": "1",
                "target_defaults": {
                    "architectures": [
                        "x86_64/intel/icelake",
                        "x86_64/generic",
                        "aarch64/neoverse_v1",
                        "x86_64/amd/zen3",
                    ]
                },
                "packages": packages
                or [
                    {"name": "GROMACS", "versions": [{"version": "2024.4"}, {"version": "2024.1"}]},
                    {
                        "name": "Python",
                        "versions": [
                            {"version": "3.10", "module_version": "3.10-a"},
                            {"version": "3.10", "module_version": "3.10-b"},
                            {"version": "3.9"},
                        ],
                    },
                    {"name": STRANGE, "versions": [{"version": "1"}]},
                ],
            }
        ]
    }


def states(tmp_path, doc=None):
    desired = load_desired([write_yaml(tmp_path / "d.yaml", doc or desired_doc())])
    return desired, dict(desired.records)


def key_of(records, kind, *parts):
    return next(k for k in records if k.kind is kind and k.parts[3 : 3 + len(parts)] == parts)


def observed_from(records):
    return ObservedState(records=records)


def test_columns_are_grouped_by_family_with_generic_first(tmp_path):
    desired, records = states(tmp_path)
    report = build_report(observed_from(records), desired)
    catalog = report.catalogs[0]
    assert [a.label for a in catalog.architectures] == [
        "aarch64/neoverse_v1",
        "x86_64/generic",
        "x86_64/amd/zen3",
        "x86_64/intel/icelake",
    ]
    assert [(f, [a.micro for a in archs]) for f, archs in catalog.families] == [
        ("aarch64", ["neoverse_v1"]),
        ("x86_64", ["generic", "amd/zen3", "intel/icelake"]),
    ]
    assert sorted([architecture("x", "b"), architecture("x", "generic")])[0].micro == "generic"


def test_marks_and_counts_of_differences(tmp_path):
    desired, records = states(tmp_path)
    zen3 = architecture("x86_64", "amd/zen3")
    # Behind the reconciler's back: a target deleted, a whole version deleted, a package added.
    del records[key_of(records, Kind.TARGET, "GROMACS", "2024.4", "", "x86_64", "amd/zen3")]
    version = key_of(records, Kind.VERSION, "Python", "3.9", "")
    for key in [k for k in records if k.parts[:6] == version.parts]:
        del records[key]
    catalog = next(k for k in records if k.kind is Kind.CATALOG)
    extra = catalog.child("Undeclared")
    records[extra] = Record(extra)
    extra_version = extra.child("0.1", "")
    records[extra_version] = Record(extra_version)
    records[extra_version.child("x86_64", "amd/zen3")] = Record(
        extra_version.child("x86_64", "amd/zen3")
    )

    report = build_report(observed_from(records), desired)
    assert report.compared
    cov = report.catalogs[0]
    assert cov.counts["package"] == {Mark.PRESENT: 3, Mark.EXTRA: 1}
    assert cov.counts["version"] == {Mark.PRESENT: 5, Mark.MISSING: 1, Mark.EXTRA: 1}
    assert cov.counts["target"] == {Mark.PRESENT: 19, Mark.MISSING: 5, Mark.EXTRA: 1}
    assert cov.differences() == 1 + 1 + 1 + 5 + 1

    rows = {row.name: row for row in cov.packages}
    assert [r.name for r in cov.packages] == [STRANGE, "GROMACS", "Python", "Undeclared"]
    gromacs = rows["GROMACS"].cell(zen3)
    assert (gromacs.present, gromacs.missing, gromacs.absent, gromacs.total) == (
        ("2024.1",),
        ("2024.4",),
        ("2024.4",),
        2,
    )
    assert not gromacs.full and gromacs.differs
    assert rows["GROMACS"].cell(architecture("x86_64", "generic")).full
    # Versions in natural order; a repeated version is named by its module version.
    python = rows["Python"]
    assert [(v.short, v.mark) for v in python.versions] == [
        ("3.9", Mark.MISSING),
        ("3.10-a", Mark.PRESENT),
        ("3.10-b", Mark.PRESENT),
    ]
    assert python.cell(zen3).missing == ("3.9",)
    assert rows["Undeclared"].mark is Mark.EXTRA
    assert rows["Undeclared"].cell(zen3).extra == ("0.1",)

    summary = {s.architecture.label: s for s in cov.summaries}
    assert (summary["x86_64/amd/zen3"].versions, summary["x86_64/amd/zen3"].missing) == (5, 2)
    assert summary["x86_64/amd/zen3"].extra == 1 and summary["x86_64/amd/zen3"].packages == 4
    assert (summary["x86_64/generic"].versions, summary["x86_64/generic"].missing) == (5, 1)


def test_without_files_everything_is_simply_on_the_server(tmp_path):
    _, records = states(tmp_path)
    report = build_report(observed_from(records))
    assert not report.compared
    cov = report.catalogs[0]
    assert set(cov.counts["target"]) == {Mark.PRESENT} and cov.differences() == 0
    assert "compared" not in render_markdown(report)


def test_absent_and_missing_catalogs(tmp_path):
    doc = desired_doc()
    doc["catalogs"].append({"name": "Old", "version": "1", "state": "absent"})
    desired, records = states(tmp_path, doc)
    old = Key(Kind.CATALOG, ("Old", "1", "binary_runtime"))
    cat = next(k for k in records if k.kind is Kind.CATALOG and k.parts[0] == "Cat")
    live = {old: Record(old)}  # "Cat" is not on the server at all
    report = build_report(ObservedState(records=live, catalog_sizes={old: 7}), desired)
    by_name = {c.key.parts[0]: c for c in report.catalogs}
    assert by_name["Old"].absent and by_name["Old"].size_on_server == 7
    assert not by_name["Cat"].on_server and cat in desired.records
    assert set(by_name["Cat"].counts["target"]) == {Mark.MISSING}
    page = render_html(report)
    assert "the next apply deletes it and the 7 objects below it" in page
    assert "Not on the server" in page
    text = render_markdown(report)
    assert "`state: absent`: the next apply deletes it and the 7 objects below it" in text


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts.append(data)


def test_html_is_self_contained_escaped_and_its_script_allowed_by_hash(tmp_path):
    desired, records = states(tmp_path)
    page = render_html(build_report(observed_from(records), desired, source="http://x/api/"))
    parsed = _Collect()
    parsed.feed(page)
    # No resource from anywhere: no src, no stylesheet link, no url() or @import in CSS.
    assert not [t for t in parsed.tags if "src" in t[1]]
    links = [t[1] for t in parsed.tags if t[0] == "link"]
    assert links == [{"rel": "icon", "href": "data:,"}]
    assert "url(" not in page and "@import" not in page
    # The policy forbids everything else, and allows exactly the one script by its hash.
    csp = next(
        t[1]["content"] for t in parsed.tags if t[1].get("http-equiv") == "Content-Security-Policy"
    )
    assert csp == policy(SCRIPT) and csp.startswith("default-src 'none'")
    assert parsed.scripts == [SCRIPT]
    digest = base64.b64encode(hashlib.sha256(SCRIPT.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in csp
    # Names are text, never markup.
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; | *bold* _é_ `tick` 🧬" in page
    assert f'data-name="{"&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;"}' in page
    # Accessible table markup: scopes, captions, the header rows in <thead>.
    scopes = {t[1].get("scope") for t in parsed.tags if t[0] == "th"}
    assert {"col", "colgroup", "row"} <= scopes
    assert sum(1 for t in parsed.tags if t[0] == "caption") == 2
    assert "@media (prefers-color-scheme:dark)" in page and "@media print" in page


def test_markdown_escapes_names_and_keeps_tables_intact(tmp_path):
    desired, records = states(tmp_path)
    text = render_markdown(build_report(observed_from(records), desired))
    row = next(line for line in text.splitlines() if "alert" in line)
    assert row.startswith(
        "| **&lt;script&gt;alert('x')&lt;/script&gt; \\| \\*bold\\* \\_é\\_ \\`tick\\` 🧬**"
    )
    header = next(line for line in text.splitlines() if line.startswith("| package |"))
    cells = re.compile(r"(?<!\\)\|")  # a cell border: a pipe not escaped
    assert len(cells.split(row)) == len(cells.split(header)) == 7
    gromacs = next(line for line in text.splitlines() if line.startswith("| **GROMACS**"))
    assert gromacs == "| **GROMACS** (2 versions) | ✓ 2/2 | ✓ 2/2 | ✓ 2/2 | ✓ 2/2 |"
    assert md("a|b\nc") == "a\\|b c"


def test_markdown_summarises_a_large_catalog(tmp_path, monkeypatch):
    packages = [{"name": f"pkg{i:02d}", "versions": [{"version": "1"}]} for i in range(12)]
    desired, records = states(tmp_path, desired_doc(packages))
    del records[key_of(records, Kind.TARGET, "pkg03", "1", "", "x86_64", "amd/zen3")]
    for micro in ("generic", "amd/zen3", "intel/icelake"):
        del records[key_of(records, Kind.TARGET, "pkg07", "1", "", "x86_64", micro)]
    monkeypatch.setattr(report_markdown, "LARGE", 10)
    text = render_markdown(build_report(observed_from(records), desired))
    assert "**Per package**: 10 packages of 12 have every version on all 4 architectures" in text
    lines = [line for line in text.splitlines() if line.startswith("| **pkg")]
    assert lines == [
        "| **pkg03** 1 | 1 | none on `x86_64/amd/zen3` | ✗ 1 on `x86_64/amd/zen3` |",
        "| **pkg07** 1 | 1 | none on `x86_64/generic`, `x86_64/amd/zen3`, `x86_64/intel/icelake`"
        " | ✗ 1 on `x86_64/generic`, `x86_64/amd/zen3`, `x86_64/intel/icelake` |",
    ]
    monkeypatch.setattr(report_markdown, "MAX_ROWS", 1)
    text = render_markdown(build_report(observed_from(records), desired))
    assert "| … and 1 more | | | |" in text


def test_small_helpers():
    assert percent(0, 10) == "0%" and percent(10, 10) == "100%"
    assert percent(1, 1000) == "<1%" and percent(999, 1000) == ">99%"
    assert percent(1, 2) == "50%" and percent(1, 0) == "\u2013"
    assert sorted(["2.10", "2.9", "10.0", "2.9.1"], key=natural) == ["2.9", "2.9.1", "2.10", "10.0"]
    assert re.fullmatch(r"`a\\\|b`", report_markdown.code("a|b"))
