"""The JSON Schema against what editors will see: files written by `export` and `import`
validate; the broken files of the bad-input corpus whose mistake is in one field are caught
by the schema too (the rest need the loader: `reconcile validate`)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from reconciler.core.errors import InputError
from reconciler.core.model import Key, Kind, ObservedState, Record
from reconciler.desired.loader import desired_json_schema, load_desired
from reconciler.desired.yamlsrc import load_yaml
from reconciler.tools import eessi_api
from reconciler.tools.export import build_document, check_round_trip, header
from reconciler.tools.writer import to_yaml
from tests.datafiles import data_file

ROOT = Path(__file__).resolve().parents[2]
BAD = ROOT / "tests" / "bad_input"
SAMPLES = (
    "eessi_api_metadata_software.sample.json",
    "eessi_api_metadata-riscv_software.sample.json",
)
#: Corpus files whose one mistake is in a single field: the schema must refuse them.
FIELD_LEVEL = (
    "07-float-version",
    "08-int-name",
    "10-unknown-key",
    "11-missing-field",
    "12-bad-architecture",
    "14-bad-catalog-type",
    "15-name-too-long",
    "17-wrong-type-list",
    "20-string-for-bool",
    "23-top-level-list",
    "24-empty",
    "28-both-target-forms",
    "29-url-too-long",
    "34-null-name",
    "35-top-level-unknown-key",
)


def validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(desired_json_schema())


def errors(text: str) -> list[jsonschema.ValidationError]:
    return list(validator().iter_errors(yaml.safe_load(text)))


def observed() -> ObservedState:
    cat = ("Site", "1", "package_manager")
    records = [
        Record(
            Key(Kind.CATALOG, cat),
            {
                "description": "",
                "source_url": "",
                "metadata": {"k": [1]},
                "auto_update_enabled": True,
            },
        ),
        Record(
            Key(Kind.PACKAGE, (*cat, "a")),
            {"description": "x\ny", "homepage": None, "is_extension": True},
        ),
        Record(Key(Kind.VERSION, (*cat, "a", "1", "")), {"release_date": "2024-02-29"}),
        Record(Key(Kind.TARGET, (*cat, "a", "1", "", "x86_64", "amd/zen3")), {"path": "/{x}"}),
    ]
    return ObservedState(records={r.key: r for r in records})


def test_an_export_validates_and_round_trips():
    state = observed()
    text = to_yaml(build_document(state), ["header"])
    assert errors(text) == []
    check_round_trip(text, state)  # raises if the loader reads anything else back


def test_an_export_leaves_out_values_the_server_would_refuse_and_says_so():
    """Waldur's loaders write past the serializers (EESSI homepages such as "(none)"): an
    export leaves such values out (unmanaged), so the file validates and still round-trips."""
    state = observed()
    cat = next(k for k in state.records if k.kind is Kind.CATALOG)
    pkg = cat.child("loaded")
    state.records[pkg] = Record(pkg, {"homepage": "(none)", "description": "bell\x07"})
    document = build_document(state)
    exported = document["catalogs"][0]["packages"][-1]
    assert exported == {"name": "loaded", "versions": []}
    text = to_yaml(document, header("https://waldur.example.org/api/", state))
    assert "2 values the server holds but would refuse on a write" in text
    check_round_trip(text, state)


@pytest.mark.parametrize("sample", SAMPLES)
def test_imports_of_both_api_samples_validate(sample):
    doc, header = eessi_api.convert_file(data_file("eessi", "api_format_sample", sample))
    assert errors(to_yaml(doc, header)) == []


@pytest.mark.parametrize("name", FIELD_LEVEL)
def test_field_level_mistakes_are_caught_by_the_schema_and_the_loader(name):
    path = BAD / f"{name}.yaml"
    data = json.loads(json.dumps(load_yaml(path).data, default=str))
    assert list(validator().iter_errors(data)), f"the schema accepts {name}"
    with pytest.raises(InputError):
        load_desired([path])
