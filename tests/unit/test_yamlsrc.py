"""yamlsrc: plain data with a line per field path, and every guard on hostile input."""

from __future__ import annotations

import datetime as dt
import os
import tracemalloc
from pathlib import Path

import pytest
import yaml

from reconciler.desired import yamlsrc
from reconciler.desired.yamlsrc import (
    MAX_DEPTH,
    Document,
    YamlError,
    decode,
    format_path,
    format_problem,
    load_yaml,
    parse_text,
)

SAMPLE = """\
catalogs:
  - name: EESSI
    version: "2023.06"
    prune: no
    packages:
      - name: GROMACS
        versions:
          - version: "2024.4"
            release_date: 2024-11-01
          - {version: "2024.1", module_version: 2024.1-foss-2023b}
    target_defaults:
      architectures: [x86_64/generic,
                      aarch64/neoverse_v1]
"""


def problems(text: str) -> list[str]:
    with pytest.raises(YamlError) as info:
        parse_text(text, "f.yaml")
    return info.value.problems


def test_data_is_plain_python_with_yaml_types() -> None:
    doc = parse_text(SAMPLE, "f.yaml")
    catalog = doc.data["catalogs"][0]
    assert catalog["version"] == "2023.06"
    assert catalog["prune"] is False
    assert catalog["packages"][0]["versions"][0]["release_date"] == dt.date(2024, 11, 1)
    assert catalog["target_defaults"]["architectures"][1] == "aarch64/neoverse_v1"
    assert doc.problems == []


def test_every_field_path_has_its_line() -> None:
    doc = parse_text(SAMPLE, "f.yaml")
    assert doc.lines[("catalogs",)] == 1
    assert doc.lines[("catalogs", 0)] == 2
    assert doc.lines[("catalogs", 0, "packages", 0, "name")] == 6
    assert doc.lines[("catalogs", 0, "packages", 0, "versions", 1)] == 10
    assert doc.lines[("catalogs", 0, "packages", 0, "versions", 1, "module_version")] == 10
    assert doc.lines[("catalogs", 0, "target_defaults", "architectures", 1)] == 13


def test_line_falls_back_to_the_nearest_ancestor() -> None:
    doc = parse_text(SAMPLE, "f.yaml")
    missing = ("catalogs", 0, "packages", 0, "versions", 0, "module_version")
    assert doc.line(missing) == 8
    assert doc.where(missing) == "f.yaml:8"
    assert doc.line(()) == 1


def test_raw_text_is_kept_for_values_yaml_did_not_read_as_strings() -> None:
    doc = parse_text("a: 2023.10\nb: yes\nc: '2023.10'\nd: ~\n", "f.yaml")
    assert doc.data == {"a": 2023.1, "b": True, "c": "2023.10", "d": None}
    assert doc.raw == {("a",): "2023.10", ("b",): "yes", ("d",): "~"}


def test_formatting_of_paths_and_problems() -> None:
    assert format_path(("catalogs", 0, "packages", 12, "name")) == "catalogs[0].packages[12].name"
    assert format_path(()) == ""
    assert format_problem("f.yaml", 3, ("a", 1), "bad") == "f.yaml:3: a[1]: bad"
    assert format_problem("f.yaml", None, (), "bad") == "f.yaml: bad"
    doc = Document("f.yaml", {}, {("a",): 4})
    assert doc.problem(("a", "b"), "bad") == "f.yaml:4: a.b: bad"


def test_the_c_loader_is_used() -> None:
    assert yaml.__with_libyaml__, (
        "this PyYAML was built without libyaml: desired files would load through the "
        "pure-Python parser, about 10 times slower; install a PyYAML wheel that bundles "
        "libyaml, or build it with the libyaml headers present"
    )
    assert issubclass(yamlsrc.PositionLoader, yaml.CSafeLoader)


def test_duplicate_keys_name_both_lines_and_keep_the_first_value() -> None:
    doc = parse_text("a: 1\nb:\n  c: x\n  d: y\n  c: z\n", "f.yaml")
    assert doc.data == {"a": 1, "b": {"c": "x", "d": "y"}}
    assert doc.problems == ["f.yaml:5: b.c: duplicate key 'c' (first at line 3)"]


def test_quoted_and_plain_spellings_of_a_key_are_the_same_key() -> None:
    doc = parse_text('name: a\n"name": b\n', "f.yaml")
    assert len(doc.problems) == 1 and "duplicate key 'name'" in doc.problems[0]


def test_non_string_keys_are_reported_and_skipped() -> None:
    doc = parse_text("1: x\ntrue: y\n[a]: z\nok: 1\n", "f.yaml")
    assert doc.data == {"ok": 1}
    assert doc.problems[0] == "f.yaml:1: key '1' was read by YAML as a number; quote it: \"1\""
    assert "as a boolean" in doc.problems[1]
    assert "not a list or mapping" in doc.problems[2]


@pytest.mark.parametrize(
    ("text", "line", "where"),
    [
        ("a: &x [1]\nb: *x\n", 2, "b"),
        ("a:\n  - &x 1\n  - *x\n", 3, "a[1]"),
        ("*x\n", 1, ""),
    ],
)
def test_aliases_are_refused(text: str, line: int, where: str) -> None:
    found = problems(text)
    assert len(found) == 1
    assert found[0].startswith(f"f.yaml:{line}: {where}")
    assert "aliases (*name) are not allowed" in found[0]


def test_anchors_without_aliases_are_harmless() -> None:
    assert parse_text("a: &x [1, 2]\n", "f.yaml").data == {"a": [1, 2]}


def test_billion_laughs_is_refused_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    levels = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        levels.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
    text = "\n".join(levels) + "\n"
    events = list(yaml.parse(text))  # the document's events; none is expanded
    first_alias = next(i for i, e in enumerate(events) if isinstance(e, yaml.AliasEvent)) + 1
    read: list[object] = []
    get_event = yamlsrc.PositionLoader.get_event

    def counting(self: yamlsrc.PositionLoader) -> object:
        read.append(event := get_event(self))
        return event

    monkeypatch.setattr(yamlsrc.PositionLoader, "get_event", counting)
    found = problems(text)
    assert found[0].startswith("f.yaml:2: b[0]: aliases")
    assert len(read) == first_alias < len(events)  # the load stopped at the first alias


def test_merge_keys_are_refused() -> None:
    assert "merge keys (<<)" in problems("a:\n  <<: {b: 1}\n")[0]


def test_nesting_is_bounded_and_the_error_names_the_start() -> None:
    ok = "a: " + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "\n"
    assert parse_text(ok, "f.yaml").data is not None
    found = problems("a: " + "[" * 500 + "]" * 500 + "\n")
    assert found == [f"f.yaml:1: a[0][0][0][0][0][0][0]: nested deeper than {MAX_DEPTH} levels"]


def test_the_number_of_values_is_bounded() -> None:
    text = "a: [" + ", ".join(["x"] * 50) + "]\n"
    assert len(parse_text(text, "f.yaml", max_nodes=53).data["a"]) == 50  # + map, key, list
    with pytest.raises(YamlError, match="more than 20 values in one file"):
        parse_text(text, "f.yaml", max_nodes=20)


@pytest.mark.parametrize(
    "text",
    [
        "a: !!binary aGVsbG8=\n",
        "a: !!python/object/apply:os.system ['true']\n",
        "a: !custom x\n",
        "a: !!set {x, y}\n",
        "a: !!omap [x: 1]\n",
    ],
)
def test_only_plain_tags_are_accepted(text: str) -> None:
    assert "is not supported" in problems(text)[0]


def test_explicit_str_tag_is_a_string() -> None:
    assert parse_text("a: !!str 2023.06\n", "f.yaml").data == {"a": "2023.06"}


def test_an_impossible_date_stays_text_for_the_field_to_judge() -> None:
    doc = parse_text("d: 2024-02-30\n", "f.yaml")
    assert doc.data == {"d": "2024-02-30"}


def test_a_number_python_cannot_read_is_an_error() -> None:
    assert "cannot read" in problems("a: 1" + "0" * 5000 + "\n")[0]


def test_syntax_errors_name_the_line() -> None:
    found = problems("a:\n  b: 1\n c: [\n")
    assert found[0].startswith("f.yaml:") and "not valid YAML" in found[0]
    assert problems("a: b: c\n")[0].startswith("f.yaml:1: not valid YAML")


def test_one_document_per_file() -> None:
    assert problems("a: 1\n---\nb: 2\n") == [
        "f.yaml:2: a second YAML document (---) starts here; use one per file"
    ]


def test_empty_stream_is_none() -> None:
    assert parse_text("", "f.yaml").data is None
    assert parse_text("# just a comment\n", "f.yaml").data is None


def test_decode_reports_the_first_bad_byte() -> None:
    with pytest.raises(YamlError) as info:
        decode(b"a: 1\nb: caf\xe9\n", "f.yaml")
    assert info.value.problems == [
        "f.yaml:2: not valid UTF-8: byte 0xe9 at column 7; save the file as UTF-8"
    ]


def test_decode_accepts_a_utf8_bom_and_refuses_utf16() -> None:
    assert decode(b"\xef\xbb\xbfa: 1\n", "f.yaml") == "a: 1\n"
    with pytest.raises(YamlError, match="UTF-16"):
        decode("a: 1\n".encode("utf-16"), "f.yaml")


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x1b", "\x7f", "\x85", "\u2028"])
def test_control_characters_are_refused_with_their_position(char: str) -> None:
    with pytest.raises(YamlError) as info:
        decode(f"a: 1\nb: x{char}y{char}\n".encode(), "f.yaml")
    (message,) = info.value.problems
    assert message.startswith(f"f.yaml:2: control character U+{ord(char):04X} at column 5")
    assert "(2 such characters in the file)" in message


def test_tab_newline_and_carriage_return_are_fine() -> None:
    assert decode(b"a: 'x\ty'\r\nb: 2\r\n", "f.yaml") == "a: 'x\ty'\r\nb: 2\r\n"


def test_load_yaml_reads_a_file_under_its_given_name(tmp_path: Path) -> None:
    path = tmp_path / "d.yaml"
    path.write_text("a:\n  b: 1\n")
    doc = load_yaml(path, name="desired/d.yaml")
    assert doc.name == "desired/d.yaml" and doc.data == {"a": {"b": 1}}
    assert load_yaml(path).name == str(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(YamlError, match="no such file or directory"):
        load_yaml(tmp_path / "nope.yaml")


def test_a_directory_is_not_a_file(tmp_path: Path) -> None:
    with pytest.raises(YamlError, match="is a directory, not a regular file"):
        load_yaml(tmp_path)


@pytest.mark.timeout(10)
def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    with pytest.raises(YamlError, match=r"is a FIFO \(named pipe\), not a regular file"):
        load_yaml(fifo)


def test_a_device_is_refused() -> None:
    with pytest.raises(YamlError, match="is a device, not a regular file"):
        load_yaml(Path("/dev/null"))


def test_a_huge_file_is_refused_without_reading_it(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    with path.open("wb") as handle:
        handle.truncate(100 * 2**20)  # sparse: 100 MiB long, no disk used
    tracemalloc.start()
    try:
        with pytest.raises(YamlError) as info:
            load_yaml(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert info.value.problems == [f"{path}: the file is 100.0 MiB, over the 20 MiB limit"]
    assert peak < 2**20  # reading it would take 100 MiB


def test_the_size_limit_is_a_parameter(tmp_path: Path) -> None:
    path = tmp_path / "d.yaml"
    path.write_text("a: " + "x" * 2000 + "\n")
    assert load_yaml(path, max_bytes=4096).data["a"] == "x" * 2000
    with pytest.raises(YamlError, match="over the"):
        load_yaml(path, max_bytes=1024)


def test_a_large_generated_file_loads_whole() -> None:  # its speed: bench/
    lines = ["catalogs:", "  - name: C", '    version: "1"', "    packages:"]
    for p in range(500):
        lines += [f"      - name: p{p}", "        versions:"]
        for v in range(4):
            lines += [f'          - version: "{v}"', "            targets:"]
            for arch in ("x86_64/generic", "x86_64/amd/zen3", "aarch64/generic"):
                family, micro = arch.split("/", 1)
                lines.append(
                    f"              - {{cpu_family: {family}, cpu_microarchitecture: {micro}, "
                    f"path: /cvmfs/x/{family}/{micro}/p{p}/{v}}}"
                )
    text = "\n".join(lines) + "\n"
    doc = parse_text(text, "f.yaml")
    packages = doc.data["catalogs"][0]["packages"]
    assert len(packages) == 500 and doc.problems == []
    assert sum(len(v["targets"]) for p in packages for v in p["versions"]) == 6_000
    assert packages[499]["versions"][3]["targets"][2] == {
        "cpu_family": "aarch64",
        "cpu_microarchitecture": "generic",
        "path": "/cvmfs/x/aarch64/generic/p499/3",
    }
    assert doc.lines[("catalogs", 0, "packages", 499, "versions", 3, "targets", 2)] == len(lines)
    name_line = 1 + lines.index("      - name: p250")
    assert doc.lines[("catalogs", 0, "packages", 250, "name")] == name_line
