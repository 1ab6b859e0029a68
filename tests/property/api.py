"""The names the property tests use from the code under test, in one place."""

# ruff: noqa: F401
from __future__ import annotations

from reconciler.core.dialect import target_to_wire
from reconciler.core.errors import InputError
from reconciler.core.model import DesiredState, Key, Kind, ObservedState, Record
from reconciler.core.plan import Plan, make_plan, normalise
from reconciler.desired.loader import load_desired
from reconciler.output.render import render_json
from reconciler.sim import serializers as sim_serializers
from reconciler.sim.app import MAX_BODY_BYTES
from reconciler.sim.kinds import KINDS as SIM_KINDS
from reconciler.sim.kinds import detail_url
from reconciler.sim.launcher import SimProcess
from reconciler.sim.validation import FieldType, ValidationFailed
