"""The names the property tests use from the code under test, in one place."""

# ruff: noqa: F401
from __future__ import annotations

from reconciler.core.dialect import target_to_wire
from reconciler.core.errors import InputError
from reconciler.core.model import DesiredState, Key, Kind, ObservedState, Record
from reconciler.core.plan import Plan, make_plan, normalise
from reconciler.desired.loader import load_desired
from reconciler.output.render import render_json
from waldur_sim import serializers as sim_serializers
from waldur_sim.app import MAX_BODY_BYTES
from waldur_sim.kinds import KINDS as SIM_KINDS
from waldur_sim.kinds import detail_url
from waldur_sim.launcher import SimProcess
from waldur_sim.validation import FieldType, ValidationFailed
