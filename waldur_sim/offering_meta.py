"""OPTIONS of the offering endpoints: DRF's metadata of upstream's offering serializer.

The sim does not implement offerings' own fields (it serves them with the values of a fresh
Marketplace.Basic offering, see `offering_render.py`), but it describes them as the recorded
upstream server does (samples 109 to 114), so a client that reads OPTIONS sees the same thing:
every field of `ProviderOfferingDetailsSerializer`, in response order, with DRF's attributes
in DRF's order (`type`, `required`, `read_only`, `label`, `help_text`, `max_length`,
`min_value`, `max_value`, `max_digits`, `decimal_places`, then `child`/`children`, `choices`).

Three recorded variants: PUT for staff (109), PUT for an owner of the providing organisation
(111: `slug` is read-only for non-staff) and POST (113: the create serializer, where `customer`
and `type` are writable).
"""

from __future__ import annotations

from waldur_sim.metadata import PARSES, RENDERS
from waldur_sim.offering_fields import Info, offering_fields

_DESCRIPTION = (
    "This viewset enables uniform implementation of resource import.\n\n"
    "Consider the following example:\n\n"
    "importable_resources_backend_method = 'get_tenants_for_import'\n"
    "import_resource_executor = executors.TenantImportExecutor\n\n"
    "It is expected that importable_resources_backend_method returns list of dicts, each of "
    "which\ncontains two mandatory fields: name and backend_id, and one optional field called "
    "extra.\nThis optional field should be list of dicts, each of which contains two mandatory "
    "fields: name and value.\n\nNote that there are only 3 mandatory parameters:\n"
    "* importable_resources_backend_method\n"
    "* importable_resources_serializer_class\n"
    "* import_resource_serializer_class"
)
_CATALOG_DESCRIPTION = "ViewSet for SoftwareCatalog model with standard DRF patterns."


def _body(name: str, description: str, actions: Info | None = None) -> Info:
    body: Info = {
        "name": name,
        "description": description,
        "renders": list(RENDERS),
        "parses": list(PARSES),
    }
    if actions is not None:
        body["actions"] = actions
    return body


def offering_options(name: str, action: str | None, *, staff: bool) -> Info:
    """OPTIONS of an offering view named `name` ("Provider Offering Instance", "Add software
    catalog", …); `action` ("PUT" or "POST") adds the fields as `staff` or an owner sees them."""
    if action is None:
        return _body(name, _DESCRIPTION)
    described = offering_fields(staff=staff, create=action == "POST")
    return _body(name, _DESCRIPTION, {action: described})


def cpu_targets_options() -> Info:
    """OPTIONS of a catalog's `cpu_targets` (sample 114): a GET-only action, no `actions`."""
    return _body("Cpu targets", _CATALOG_DESCRIPTION)
