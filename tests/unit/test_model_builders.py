"""The bulk paths' constructors (`Key.trusted`, `make_record`) give exactly what the classes'
own constructors give: equal, same hash, still frozen, usable as the same dictionary key."""

from __future__ import annotations

import dataclasses
import pickle

import pytest

from reconciler.core.model import Key, Kind, Record, catalog_key, make_record

TARGET = catalog_key("EESSI", "2023.06").child("GROMACS").child("2024.4", "m").child("x", "y")


@pytest.mark.parametrize("key", [TARGET, *TARGET.ancestors()])
def test_a_trusted_key_is_the_key_its_constructor_gives(key: Key):
    trusted = Key.trusted(key.kind, key.parts)
    assert trusted == key and hash(trusted) == hash(key) and trusted is not key
    assert {key: 1}[trusted] == 1
    assert trusted.parent == key.parent and str(trusted) == str(key)
    assert pickle.loads(pickle.dumps(trusted)) == key
    with pytest.raises(dataclasses.FrozenInstanceError):
        trusted.parts = ()  # type: ignore[misc]


def test_the_checked_constructor_still_refuses_a_key_of_the_wrong_length():
    with pytest.raises(ValueError, match="parts"):
        Key(Kind.TARGET, TARGET.parts[:-1])


def test_make_record_is_the_record_its_constructor_gives():
    fields = {"path": "/p"}
    made = make_record(TARGET, fields, "u", "http://x/u/", "a.yaml:3")
    assert made == Record(TARGET, fields, "u", "http://x/u/", "a.yaml:3")
    assert make_record(TARGET, {}) == Record(TARGET)
    assert made.kind is Kind.TARGET and made.fields is fields
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.uuid = "v"  # type: ignore[misc]
