"""Properties of the offline layers, in-process and fast: many examples each.

- Every well-formed document passes `validate` (no false refusal), with the records it
  declares.
- Planning is deterministic: the same files and the same live state, whatever order the live
  objects were read in, give equal plans and the same JSON; against a server holding exactly
  what the file declares, the plan is empty.
- A hostile value is refused, and the message names the file, the line and the field.
- Whatever `validate` accepts, waldur-sim's serializers accept: every create body the plan
  would send encodes as the HTTP client encodes it, passes the server's field rules in both
  dialects, is stored as sent (natural keys exactly, values as the plan compares them), and
  no two declared objects land on one natural key.
"""

from __future__ import annotations

import itertools
import json
import re
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.property import strategies as gen
from tests.property.api import (
    MAX_BODY_BYTES,
    SIM_KINDS,
    FieldType,
    InputError,
    Kind,
    ObservedState,
    Record,
    ValidationFailed,
    detail_url,
    load_desired,
    make_plan,
    normalise,
    render_json,
    sim_serializers,
    target_to_wire,
)
from tests.property.budget import FAST

_names = itertools.count()


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("property")


def write(folder: Path, text: str) -> Path:
    path = folder / f"doc{next(_names)}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def expected_records(doc: dict) -> Counter:
    """How many objects of each kind `doc` declares, counted from the document itself."""
    count: Counter = Counter()
    for catalog in doc["catalogs"]:
        count[Kind.CATALOG] += 1
        if catalog.get("state") == "absent":
            continue
        defaults = (catalog.get("target_defaults") or {}).get("architectures", [])
        for package in catalog.get("packages", []):
            count[Kind.PACKAGE] += 1
            for version in package["versions"]:
                count[Kind.VERSION] += 1
                count[Kind.TARGET] += len(version.get("targets", defaults))
    return count


# -- validate accepts every well-formed document -------------------------------------------------


@FAST
@given(doc=gen.documents, wide=st.booleans())
def test_well_formed_documents_pass_validate(folder, doc, wide):
    path = write(folder, gen.dump(doc, wide=wide))
    try:
        desired = load_desired([path])
    except InputError as exc:
        raise AssertionError(f"validate refused a well-formed document:\n{exc}") from None
    got = Counter(key.kind for key in desired.records)
    assert got == expected_records(doc)


# -- planning is deterministic ---------------------------------------------------------------------

SERVER_DEFAULTS = {
    Kind.CATALOG: {
        "description": "",
        "source_url": "",
        "metadata": {},
        "auto_update_enabled": True,
    },
    Kind.PACKAGE: {"description": "", "homepage": None, "is_extension": False},
    Kind.VERSION: {"release_date": None},
    Kind.TARGET: {"path": ""},
}
UNDECLARED = {
    Kind.CATALOG: ("undeclared ⚠",),
    Kind.PACKAGE: ("undeclared ⚠", ""),
    Kind.VERSION: ("undeclared", "⚠"),
}
EDITS = {
    Kind.CATALOG: {"description": "edited", "source_url": "https://edited.example/"},
    Kind.PACKAGE: {"description": "edited", "homepage": "https://edited.example/"},
    Kind.VERSION: {"release_date": "2000-02-29"},
    Kind.TARGET: {"path": "/edited"},
}


def live(record: Record, number: int, **fields) -> Record:
    values = {**SERVER_DEFAULTS[record.kind], **record.fields, **fields}
    uuid = f"{number:032x}"
    return Record(record.key, values, uuid=uuid, url=f"http://sim/api/x/{uuid}/")


@st.composite
def live_states(draw: st.DrawFn, desired) -> list[Record]:
    """What a server might hold for `desired`: each object there as declared, edited or
    missing, plus undeclared children; in a drawn order."""
    records: list[Record] = []
    present = set()
    for number, (key, record) in enumerate(sorted(desired.records.items())):
        parent = key.parent
        if parent is not None and parent not in present:
            continue
        fate = draw(st.sampled_from(["same", "same", "edited", "missing"]))
        if fate == "missing":
            continue
        edits = EDITS[key.kind] if fate == "edited" else {}
        records.append(live(record, number, **edits))
        present.add(key)
        if key.kind is not Kind.TARGET and draw(st.integers(0, 4)) == 0:
            extra = key.child(*UNDECLARED[key.kind])
            records.append(live(Record(extra), 10_000 + number))
    return draw(st.permutations(records))


def observed(records: list[Record]) -> ObservedState:
    return ObservedState(records={record.key: record for record in records})


@settings(FAST, max_examples=60)
@given(doc=gen.documents, data=st.data())
def test_planning_the_same_inputs_twice_gives_the_same_plan(folder, doc, data):
    text = gen.dump(doc)
    first, second = load_desired([write(folder, text)]), load_desired([write(folder, text)])
    assert first.policies == second.policies
    assert {k: r.fields for k, r in first.records.items()} == {
        k: r.fields for k, r in second.records.items()
    }
    state = data.draw(live_states(first))
    shuffled = data.draw(st.permutations(state))
    plan_a = make_plan(first, observed(state))
    plan_b = make_plan(second, observed(shuffled))
    assert plan_a == plan_b
    assert render_json(plan_a) == render_json(plan_b)
    assert make_plan(first, ObservedState()) == make_plan(second, ObservedState())


@settings(FAST, max_examples=60)
@given(doc=gen.documents)
def test_against_a_server_holding_what_is_declared_the_plan_is_empty(folder, doc):
    desired = load_desired([write(folder, gen.dump(doc))])
    mirror = [
        live(record, n)
        for n, (key, record) in enumerate(desired.records.items())
        if not desired.policies[key.catalog].absent
    ]
    plan = make_plan(desired, observed(mirror))
    assert plan.empty, render_json(plan)


# -- hostile values are refused, naming file, line and field ---------------------------------------


@settings(FAST, max_examples=150)
@given(hostile=gen.hostile_documents(), wide=st.booleans())
def test_hostile_values_are_refused_naming_file_line_and_field(folder, hostile, wide):
    text = gen.dump(hostile.doc, wide=wide)
    path = write(folder, text)
    with pytest.raises(InputError) as refused:
        load_desired([path])
    problems = refused.value.problems
    line, first, last = gen.key_lines(text, hostile.path)
    if isinstance(hostile.value, str) and re.search("[\ud800-\udfff]", hostile.value):
        # YAML (libyaml) cannot carry a lone surrogate: the escape is refused while parsing,
        # before any field is known; the line of the value is named.
        lines = "|".join(str(n) for n in range(first, last + 1))
        pattern = rf"{re.escape(str(path))}:({lines}): not valid YAML"
        assert any(re.match(pattern, p) for p in problems), problems
        return
    expected = f"{path}:{line}: {gen.format_path(hostile.path)}: "
    assert any(p.startswith(expected) for p in problems), (expected, problems)


# -- what validate accepts, the server accepts ----------------------------------------------------

_BASE = "http://sim"
_PARENT_LINK = {
    Kind.PACKAGE: ("catalog", "catalog"),
    Kind.VERSION: ("package", "package"),
    Kind.TARGET: ("version", "version"),
}
_WIRE_KEY = {
    "legacy": {Kind.TARGET: ("cpu_family", "cpu_microarchitecture")},
    "current": {Kind.TARGET: ("target_name", "target_subtype")},
}
_MODEL_NAMES = {"target_name": "cpu_family", "target_subtype": "cpu_microarchitecture"}
_MODEL_NAMES |= {"location": "path"}


def server_judgement(desired, dialect: str) -> dict[str, list[str]]:
    """What waldur-sim's serializers (the code the sim process runs on a write) say about every
    create the plan would send from an empty server, by kind of problem (empty when all is
    well)."""
    schemas = sim_serializers.schemas(dialect)
    plan = make_plan(desired, ObservedState())
    problems: dict[str, list[str]] = {name: [] for name in PROBLEMS}
    stored_keys: dict[tuple, list] = {}
    for change in plan.changes:
        kind = change.kind
        fields = dict(change.after or {})
        body = target_to_wire(fields, dialect) if kind is Kind.TARGET else dict(fields)
        if kind in _PARENT_LINK:
            name, parent = _PARENT_LINK[kind]
            body[name] = detail_url(_BASE, SIM_KINDS[parent], "0" * 32)
        try:  # as httpx encodes a JSON body, and as the server decodes it
            wire = json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
            sent = json.loads(wire)
        except ValueError as exc:
            problems["unsendable"].append(f"{change.key}: {body!r:.300}: {exc}")
            continue
        if len(wire.encode()) > MAX_BODY_BYTES:
            problems["too large"].append(f"{change.key}: a body of {len(wire.encode()):,} bytes")
            continue
        schema = schemas[kind.label]
        try:
            stored = sim_serializers.validate(
                schema, sent, creating=True, partial=False, lookup=lambda kind, uuid: 1
            )
        except ValidationFailed as exc:
            problems["400"].append(f"{change.key}: {exc.errors} for {body!r:.500}")
            continue
        column_of = {f.name: f.column for f in schema.fields}
        links = {f.name for f in schema.fields if f.type is FieldType.LINK}
        own = change.key.own()
        for wire_name, value in body.items():
            if wire_name in links or wire_name == "target_type":
                continue
            model_name = _MODEL_NAMES.get(wire_name, wire_name)
            have = stored[column_of[wire_name]]
            if model_name in own:  # a key part: the server must keep it exactly
                if have != value:
                    problems["key changed"].append(f"{change.key}: {wire_name} stored as {have!r}")
            elif normalise(model_name, have) != normalise(model_name, value):
                problems["value changed"].append(f"{change.key}: {value!r} stored as {have!r}")
        unique = tuple(stored[column_of[n]] for n in schema.unique if n not in links)
        stored_keys.setdefault((kind, change.key.parent, unique), []).append(change.key)
    for (kind, _, unique), keys in stored_keys.items():
        if len(keys) > 1:
            problems["one key"].append(f"{kind.label}s {[str(k) for k in keys]} as {unique}")
    return {name: found for name, found in problems.items() if found}


#: Kinds of disagreement, each asserted on a line of its own so that Hypothesis reports (and
#: shrinks) a falsifying example for each.
PROBLEMS = ("unsendable", "too large", "400", "key changed", "value changed", "one key")


@settings(FAST, max_examples=100)
@given(case=gen.gray_documents(small=True))
def test_what_validate_accepts_the_servers_serializers_accept(folder, case):
    doc, changed = case
    try:
        desired = load_desired([write(folder, gen.dump(doc))])
    except InputError:
        return  # refused offline: nothing is sent (the hostile-value test checks messages)
    for dialect in ("legacy", "current"):
        found = server_judgement(desired, dialect)
        what = (dialect, changed, found)
        assert "unsendable" not in found, ("the HTTP client cannot encode it", what)
        assert "too large" not in found, ("413: over the server's request size", what)
        assert "400" not in found, ("400: the server's serializer refuses it", what)
        assert "key changed" not in found, ("the server stores another natural key", what)
        assert "value changed" not in found, ("the server stores another value", what)
        assert "one key" not in found, ("two declared objects, one key on the server", what)


def test_every_grey_value_validate_accepts_the_servers_serializers_accept(folder):
    """Exhaustive and minimal: each grey-zone value alone, in the smallest catalog that has a
    place of its kind; every disagreement listed at once."""
    found = {}
    for case in gen.GREY_CASES:
        doc = {"catalogs": [gen.grey_catalog(0, case)]}
        try:
            desired = load_desired([write(folder, gen.dump(doc))])
        except InputError:
            continue
        for dialect in ("legacy", "current"):
            for problem, where in server_judgement(desired, dialect).items():
                found[f"{dialect}: {gen.describe_case(case):.200}"] = f"{problem}: {where[0]:.300}"
    assert not found, "validate accepts, the server does not:\n" + "\n".join(
        f"  {case}\n    {problem}" for case, problem in found.items()
    )
