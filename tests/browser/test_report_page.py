"""`reconcile report` opened in headless Chromium: what a person sees, and nothing fetched.

The report is made by the real command against a real waldur-sim after changes behind the
reconciler's back (a target deleted, a package added), then read from the rendered page:
texts as shown (`innerText`), what is visible, the sticky header while scrolling, the filter,
dark mode, no script, print. Every request the page made is recorded by the browser itself
(DevTools `Network.requestWillBeSent`): the file itself must be the only one. Screenshots go
to tests/artifacts/ (git-ignored).
"""

from __future__ import annotations

import json

import yaml

from reconciler.desired.loader import load_desired
from reconciler.tools import eessi
from tests.datafiles import EESSI_FULL, data_file
from tests.e2e.harness import ROOT, reconcile, write_yaml

from .drift import add_package, delete_target

EXAMPLE = ROOT / "examples" / "targets.yaml"
STRANGE = "Ünïcödé <b>pkg</b> | x"

#: JavaScript helpers evaluated in the page: a matrix cell as a person reads it.
CELL = """
((pkg, arch, version) => {
  const table = document.querySelector('table.mx');
  const heads = [...table.querySelectorAll('thead tr.r2 th')];
  const col = heads.findIndex(th => th.title === arch);
  if (col < 0) return null;
  const body = table.querySelector(`tbody[data-name="${pkg}"]`);
  let row = body.querySelector('tr.pk');
  if (version !== null)
    row = [...body.querySelectorAll('tr.v')].find(r => r.cells[0].innerText.startsWith(version));
  const cell = row.cells[col + 1];
  const shown = e => e.innerText.replace(/\u00a0/g, ' ');  // no-break spaces read as spaces
  return {text: shown(cell), cls: cell.className, visible: cell.checkVisibility(),
          name: shown(row.cells[0]), head: shown(heads[col])};
})
"""


def cell(page, package: str, arch: str, version: str | None = None) -> dict:
    args = json.dumps([package, arch, version])[1:-1]
    return page.evaluate(f"({CELL})({args})")


def luminance(css_colour: str) -> float:
    """0 (black) to 1 (white), from `rgb(r, g, b)`."""
    r, g, b = (int(x) for x in css_colour[css_colour.index("(") + 1 : -1].split(",")[:3])
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255


def visible_packages(page) -> int:
    return page.evaluate(
        "[...document.querySelectorAll('tbody[data-name]')].filter(b => b.checkVisibility()).length"
    )


def type_filter(page, text: str) -> str:
    value = json.dumps(text)
    return page.evaluate(
        f"(() => {{const f = document.getElementById('filter'); f.value = {value};"
        "f.dispatchEvent(new Event('input')); return document.getElementById('fc').innerText})()"
    )


def example_report(sim, tmp_path):
    server = sim()
    applied = reconcile(server, "apply", "-f", str(EXAMPLE))
    assert applied.returncode == 0, applied.stderr
    delete_target(server.api_url, server.staff_token, "GROMACS", "2024.4", "amd/zen3")
    add_package(server.api_url, server.staff_token, "EESSI", STRANGE)
    out = tmp_path / "report.html"
    done = reconcile(server, "report", "-f", str(EXAMPLE), "--format", "html", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "2 difference(s) with the files" in done.stderr
    return out


def test_the_example_report_as_a_person_sees_it(sim, browser, tmp_path):
    out = example_report(sim, tmp_path)
    url = out.as_uri()
    page = browser.page(1280, 900).goto(url)

    # Nothing but the file itself was requested, and nothing went wrong on the page.
    assert page.requests() == [url]
    assert page.problems() == []
    assert page.evaluate("document.title") == "Software catalog coverage"

    # The GROMACS row, the zen3 column: the deleted target is marked, with a word and a symbol.
    zen3 = cell(page, "gromacs", "x86_64/amd/zen3")
    assert zen3["name"].startswith("GROMACS")
    assert zen3["head"].split() == ["zen3", "amd"]
    assert zen3["visible"] and zen3["cls"] == "m"
    assert zen3["text"].split("\n") == ["◐ 1/2", "2024.1", "✗ missing: 2024.4"]
    assert cell(page, "gromacs", "x86_64/generic")["text"] == "✓ 2/2"
    assert page.evaluate(
        "[...document.querySelectorAll('thead tr.r1 th')].map(th => th.innerText)"
    ) == ["package (versions)", "aarch64", "x86_64"]

    # Versions are folded under their package; opening it shows the version with the gap.
    version = cell(page, "gromacs", "x86_64/amd/zen3", version="2024.4")
    assert not version["visible"]
    page.evaluate("document.querySelector('tbody[data-name=\"gromacs\"] summary').click()")
    version = cell(page, "gromacs", "x86_64/amd/zen3", version="2024.4")
    assert version["visible"] and version["text"] == "✗ missing" and version["cls"] == "m"
    assert cell(page, "gromacs", "x86_64/generic", version="2024.4")["text"] == "✓"

    # The package nobody declared: its name shown literally (escaped), marked as extra.
    name = json.dumps(STRANGE.lower())
    strange = page.evaluate(
        f"(() => {{const th = document.querySelector('tbody[data-name={name}] th');"
        "return [th.innerText.replace(/\\u00a0/g, ' '), th.querySelectorAll('b').length]})()"
    )
    assert strange == [f"{STRANGE} no versions + extra", 0]

    # Summary per architecture and the legend, in words.
    zen3_summary = page.evaluate(
        "[...document.querySelectorAll('table.summary tbody tr')]"
        ".find(r => r.cells[0].innerText === 'x86_64/amd/zen3').innerText"
    )
    assert zen3_summary.split() == ["x86_64/amd/zen3", "5", "83%", "10", "83%", "1", "0"]
    legend = page.evaluate(
        "[...document.querySelectorAll('.legend li')]"
        ".map(li => li.textContent.replace(/\\u00a0/g, ' '))"
    )
    assert "✗ missing declared in the files, missing on the server" in legend
    assert "+ extra on the server, not declared in the files" in legend

    # The filter box (the page's only script) narrows the rows; clearing it brings them back.
    assert page.evaluate("document.getElementById('fb').checkVisibility()")
    assert type_filter(page, "grom") == "1 of 6 packages shown"
    assert visible_packages(page) == 1
    assert type_filter(page, "") == ""
    assert visible_packages(page) == 6
    page.screenshot("report-example.png", full_page=True)
    assert page.problems() == []
    page.close()


def test_the_example_report_dark_without_script_and_printed(sim, browser, tmp_path):
    out = example_report(sim, tmp_path)
    url = out.as_uri()

    dark = browser.page(1280, 900, dark=True).goto(url)
    background = dark.evaluate("getComputedStyle(document.body).backgroundColor")
    text = dark.evaluate("getComputedStyle(document.body).color")
    assert luminance(background) < 0.15 < 0.75 < luminance(text)
    dark.evaluate("document.querySelector('tbody[data-name=\"gromacs\"] summary').click()")
    assert cell(dark, "gromacs", "x86_64/amd/zen3")["cls"] == "m"
    assert dark.requests() == [url] and dark.problems() == []
    dark.screenshot("report-example-dark.png", full_page=True)
    dark.close()

    # Without script: no filter box, and nothing else missing.
    plain = browser.page(1280, 900, script=False).goto(url)
    assert not plain.evaluate("document.getElementById('fb').checkVisibility()")
    assert visible_packages(plain) == 6
    assert cell(plain, "gromacs", "x86_64/amd/zen3")["text"].endswith("✗ missing: 2024.4")
    plain.evaluate("document.querySelector('tbody[data-name=\"gromacs\"] summary').click()")
    assert cell(plain, "gromacs", "x86_64/amd/zen3", version="2024.4")["visible"]
    assert plain.requests() == [url] and plain.problems() == []
    plain.close()

    # Printed: black on white, no filter, the header not sticky; a PDF comes out.
    printed = browser.page(1280, 900).goto(url)
    printed.media("print")
    assert printed.evaluate("getComputedStyle(document.getElementById('fb')).display") == "none"
    assert (
        printed.evaluate("getComputedStyle(document.querySelector('table.mx thead th')).position")
        == "static"
    )
    assert luminance(printed.evaluate("getComputedStyle(document.body).backgroundColor")) > 0.95
    assert printed.pdf("report-example.pdf").stat().st_size > 10_000
    printed.close()


def test_the_full_eessi_report_stays_usable(sim, browser, tmp_path):
    from bench.simdb import write_state  # waldur-sim's own serializer and store, no HTTP

    desired_file = write_yaml(
        tmp_path / "eessi.yaml", eessi.convert(eessi.load(data_file(*EESSI_FULL)))
    )
    db = tmp_path / "eessi.sqlite3"
    counts = write_state(db, load_desired([desired_file]))
    assert (counts["package"], counts["target"]) == (654, 16751)
    server = sim(db=db)
    delete_target(server.api_url, server.staff_token, "GROMACS", "2024.4", "amd/zen3")

    out = tmp_path / "eessi.html"
    done = reconcile(server, "report", "-f", str(desired_file), "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "1 difference(s)" in done.stderr
    assert out.stat().st_size < 1_500_000  # its speed: bench/report.py, not here
    markdown = reconcile(server, "report", "-f", str(desired_file), "--format", "markdown")
    assert markdown.returncode == 0, markdown.stderr
    assert len(markdown.stdout.encode()) < 65_536  # a forge comment's limit
    gromacs = next(line for line in markdown.stdout.splitlines() if "**GROMACS**" in line)
    assert "✗ 2024.4 on `x86_64/amd/zen3`" in gromacs

    url = out.as_uri()
    page = browser.page(1280, 900).goto(url)
    assert page.requests() == [url] and page.problems() == []
    assert page.evaluate("document.querySelectorAll('tbody[data-name]').length") == 654
    page.screenshot("report-eessi.png")

    zen3 = cell(page, "gromacs", "x86_64/amd/zen3")
    assert zen3["text"].split("\n") == ["◐ 3/4", "all but 2024.4", "✗ missing: 2024.4"]
    assert page.evaluate("document.querySelectorAll('table.mx thead tr.r2 th').length") == 14

    # Scrolled down to GROMACS, opened: the header rows stay on top, the row shows below them.
    geometry = page.evaluate(
        """(() => {
        const body = document.querySelector('tbody[data-name="gromacs"]');
        body.querySelector('summary').click();
        body.scrollIntoView();
        const head = document.querySelector('table.mx thead tr.r2 th').getBoundingClientRect();
        const row = body.querySelector('tr.pk').getBoundingClientRect();
        return {scrolled: window.scrollY, head_top: head.top, head_bottom: head.bottom,
                row_top: row.top};
        })()"""
    )
    assert geometry["scrolled"] > 2_000
    assert 0 < geometry["head_top"] < 60
    assert geometry["head_bottom"] <= geometry["row_top"] + 1
    page.screenshot("report-eessi-gromacs.png")

    # Scrolled sideways: the package names stay in view.
    left = page.evaluate(
        """(() => {window.scrollBy(400, 0);
        return [window.scrollX, document.querySelector('tbody[data-name="gromacs"] th')
        .getBoundingClientRect().left]})()"""
    )
    assert left[0] > 0 and abs(left[1]) < 1

    page.evaluate(
        "(() => {const f = document.getElementById('filter');"
        "f.value = 'gromacs'; f.dispatchEvent(new Event('input'))})()"
    )
    assert page.evaluate("document.getElementById('fc').innerText") == "1 of 654 packages shown"
    assert visible_packages(page) == 1
    assert page.problems() == []
    page.close()


def test_report_yaml_is_loaded_from_the_example(tmp_path):
    """The example the browser tests use declares what they look for."""
    doc = yaml.safe_load(EXAMPLE.read_text())
    catalog = doc["catalogs"][0]
    assert "x86_64/amd/zen3" in catalog["target_defaults"]["architectures"]
    names = [p["name"] for p in catalog["packages"]]
    assert "GROMACS" in names and len(names) == 5
