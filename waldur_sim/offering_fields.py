"""The fields of upstream's offering serializer as DRF's metadata describes them (used by
`offering_meta` for the OPTIONS answers): a table per field, in response order."""

from __future__ import annotations

from typing import Any

Info = dict[str, Any]
Named = tuple[str, Info]

_ATTRIBUTES = ("help_text", "max_length", "min_value", "max_value", "max_digits", "decimal_places")


def _label(name: str) -> str:
    text = name.replace("_", " ")
    return text[:1].upper() + text[1:]


def _info(
    type_: str,
    *,
    required: bool,
    read_only: bool,
    label: str | None,
    child: Info | None = None,
    children: Info | None = None,
    choices: tuple[tuple[str, str], ...] = (),
    **attributes: Any,
) -> Info:
    info: Info = {"type": type_, "required": required, "read_only": read_only}
    if label is not None:
        info["label"] = label
    info |= {name: attributes[name] for name in _ATTRIBUTES if name in attributes}
    if child is not None:
        info["child"] = child
    if children is not None:
        info["children"] = children
    if choices:
        info["choices"] = [{"value": value, "display_name": name} for value, name in choices]
    return info


def ro(name: str, type_: str = "field", *, required: bool = False, **kw: Any) -> Named:
    """A read-only field."""
    label = kw.pop("label", _label(name))
    return name, _info(type_, required=required, read_only=True, label=label, **kw)


def rw(name: str, type_: str, *, required: bool = False, **kw: Any) -> Named:
    """A writable field."""
    label = kw.pop("label", _label(name))
    return name, _info(type_, required=required, read_only=False, label=label, **kw)


def _booleans(**help_texts: str) -> tuple[Named, ...]:
    return tuple(rw(name, "boolean", help_text=text) for name, text in help_texts.items())


def fields(*named: Named) -> Info:
    return dict(named)


def nested(read_only: bool, *named: Named) -> Info:
    """The child of a list of nested objects (no label, as DRF describes a child)."""
    return _info(
        "nested object", required=False, read_only=read_only, label=None, children=dict(named)
    )


_STRING_ITEM = {"type": "string", "required": True, "read_only": False}
_INT32 = {"min_value": -2147483648, "max_value": 2147483647}
_ORGANIZATION_GROUPS = ro(
    "organization_groups",
    child=nested(
        True,
        ro("uuid", "string"),
        ro("url"),
        rw("name", "string", required=True, max_length=150),
        rw("type", "string", required=True),
        ro("type_name", "string"),
        ro("parent_uuid"),
        ro("parent_name"),
        rw("parent", "field"),
        ro("customers_count"),
    ),
)
_SOFTWARE_CATALOGS = ro(
    "software_catalogs",
    child=nested(
        True,
        ro("uuid", "string"),
        ro(
            "catalog",
            "nested object",
            children=fields(
                ro("uuid", "string"),
                rw(
                    "name",
                    "string",
                    required=True,
                    help_text="Catalog name (e.g., EESSI, Spack)",
                    max_length=100,
                ),
                rw(
                    "version",
                    "string",
                    required=True,
                    help_text="Catalog version (e.g., 2023.06, 0.21.0)",
                    max_length=50,
                ),
                rw("description", "string"),
                ro("supports_cpu_target_restrictions", "boolean"),
            ),
        ),
        rw(
            "enabled_cpu_family",
            "list",
            help_text="List of enabled CPU families: ['x86_64', 'aarch64']",
            child=_STRING_ITEM,
        ),
        rw(
            "enabled_cpu_microarchitectures",
            "list",
            help_text="List of enabled CPU microarchitectures: ['generic', 'zen3']",
            child=_STRING_ITEM,
        ),
        ro("package_count"),
        ro(
            "partition",
            "nested object",
            children=fields(
                ro("uuid", "string"),
                rw(
                    "partition_name",
                    "string",
                    required=True,
                    help_text="Name of the SLURM partition",
                    max_length=255,
                ),
                rw(
                    "priority_tier",
                    "integer",
                    help_text="Priority tier for scheduling and preemption",
                    min_value=0,
                    max_value=32767,
                ),
                rw("qos", "string", help_text="Quality of Service (QOS) name", max_length=255),
                rw(
                    "cpu_arch",
                    "string",
                    help_text="CPU architecture of the partition (e.g., x86_64/amd/zen3)",
                    max_length=100,
                ),
                rw(
                    "gpu_arch",
                    "string",
                    help_text="GPU architecture of the partition (e.g., nvidia/cc90, amd/gfx90a)",
                    max_length=100,
                ),
            ),
        ),
    ),
)
_LIMIT_PERIODS = (
    (
        "month",
        "Maximum monthly - every month service provider can report up to the amount "
        "requested by user.",
    ),
    (
        "annual",
        "Maximum annually - every year service provider can report up to the amount "
        "requested by user.",
    ),
    (
        "total",
        "Maximum total - SP can report up to the requested amount over the whole active "
        "state of resource.",
    ),
)
_COMPONENTS = rw(
    "components",
    "field",
    child=nested(
        False,
        ro("uuid", "string"),
        rw(
            "billing_type",
            "choice",
            required=True,
            choices=(
                ("fixed", "Fixed-price"),
                ("usage", "Usage-based"),
                ("limit", "Limit-based"),
                ("one", "One-time"),
                ("few", "One-time on plan switch"),
            ),
        ),
        rw(
            "type",
            "string",
            required=True,
            help_text="Unique internal name of the measured unit, for example floating_ip.",
            max_length=50,
        ),
        rw(
            "name",
            "string",
            required=True,
            help_text="Display name for the measured unit, for example, Floating IP.",
            max_length=150,
        ),
        rw("description", "string", max_length=2000),
        rw(
            "measured_unit",
            "string",
            help_text="Unit of measurement, for example, GB.",
            max_length=30,
        ),
        rw("limit_period", "choice", choices=_LIMIT_PERIODS),
        rw("limit_amount", "integer", **_INT32),
        rw("article_code", "string", max_length=30),
        rw("max_value", "integer", **_INT32),
        rw("min_value", "integer", **_INT32),
        rw("max_available_limit", "integer", **_INT32),
        rw("is_boolean", "boolean"),
        rw("default_limit", "integer", **_INT32),
        ro("factor"),
        ro("is_builtin"),
    ),
)
_PLANS = rw(
    "plans",
    "field",
    child=nested(
        False,
        ro("url"),
        ro("uuid", "string"),
        rw("name", "string", required=True, max_length=150),
        rw("description", "string", max_length=2000),
        rw("article_code", "string", max_length=30),
        rw(
            "max_amount",
            "integer",
            help_text=(
                "Maximum number of plans that could be active. "
                "Plan is disabled when maximum amount is reached."
            ),
            min_value=1,
            max_value=32767,
        ),
        rw("archived", "boolean", help_text="Forbids creation of new resources."),
        ro("is_active"),
        rw("unit_price", "decimal", min_value=0.0, max_digits=22, decimal_places=10),
        rw(
            "unit",
            "choice",
            choices=(
                ("month", "Per month"),
                ("half_month", "Per half month"),
                ("day", "Per day"),
                ("hour", "Per hour"),
                ("quantity", "Quantity"),
            ),
        ),
        ro("init_price"),
        ro("switch_price"),
        rw("backend_id", "string", max_length=255),
        _ORGANIZATION_GROUPS,
        ro("prices"),
        ro("future_prices"),
        ro("quotas"),
        ro("resources_count"),
    ),
)


def _countries() -> tuple[tuple[str, str], ...]:
    """ISO codes and names, as upstream lists them (names may contain spaces)."""
    text = (
        "AL Albania|AT Austria|BE Belgium|BG Bulgaria|BA Bosnia and Herzegovina|CH Switzerland|"
        "CY Cyprus|CZ Czechia|DE Germany|DK Denmark|ES Spain|EE Estonia|FI Finland|FR France|"
        "GB United Kingdom|GE Georgia|GR Greece|HR Croatia|HU Hungary|IE Ireland|IS Iceland|"
        "IT Italy|LT Lithuania|LU Luxembourg|LV Latvia|MC Monaco|MK North Macedonia|MT Malta|"
        "NL Netherlands|NO Norway|PL Poland|PT Portugal|RO Romania|RS Serbia|SK Slovakia|"
        "SI Slovenia|SE Sweden|UA Ukraine|EU European Union"
    )
    return tuple((entry[:2], entry[3:]) for entry in text.split("|"))


def offering_fields(*, staff: bool, create: bool) -> Info:
    """Every field of upstream's offering serializer, as its OPTIONS describes it."""
    slug = rw("slug", "slug", max_length=50) if staff or create else None
    writable_on_create = rw if create else ro
    return fields(
        ro("url"),
        ro("uuid", "string"),
        ro("created", "datetime"),
        rw("name", "string", required=True, max_length=150),
        slug or ro("slug", "slug", max_length=50),
        rw("description", "string", max_length=2000),
        rw("full_description", "string"),
        rw("terms_of_service", "string"),
        rw("terms_of_service_link", "url", max_length=200),
        rw("privacy_policy_link", "url", max_length=200),
        ro(
            "endpoints",
            child=nested(
                True,
                ro("uuid", "string"),
                rw("name", "string", required=True, max_length=150),
                rw("url", "string", required=True),
            ),
        ),
        _SOFTWARE_CATALOGS,
        ro(
            "roles",
            child=nested(
                True,
                ro("uuid", "string"),
                rw("name", "string", required=True, max_length=150),
                ro("url"),
            ),
        ),
        writable_on_create("customer", "field"),
        ro("customer_uuid"),
        ro("customer_name"),
        ro("project"),
        ro("project_uuid"),
        ro("project_name"),
        rw("category", "field", required=True),
        ro("category_uuid"),
        ro("category_title"),
        rw("rating", "integer", help_text="Rating is value from 1 to 5.", min_value=1, max_value=5),
        rw("attributes", "field"),
        rw("options", "field"),
        rw("resource_options", "field"),
        _COMPONENTS,
        rw(
            "plugin_options",
            "field",
            help_text="Public data used by specific plugin, such as storage mode for OpenStack.",
        ),
        rw("secret_options", "field"),
        ro("service_attributes"),
        ro("state"),
        rw("native_name", "string", max_length=160),
        rw("native_description", "string", max_length=500),
        rw("vendor_details", "string"),
        rw("getting_started", "string"),
        rw("integration_guide", "string"),
        rw("thumbnail", "file upload", max_length=100),
        ro("order_count"),
        _PLANS,
        ro(
            "screenshots",
            child=nested(
                True,
                rw("name", "string", required=True, max_length=150),
                ro("uuid", "string"),
                rw("description", "string", max_length=2000),
                rw("image", "image upload", required=True, max_length=100),
                ro("thumbnail", "image upload"),
                ro("created", "datetime"),
            ),
        ),
        writable_on_create("type", "string", required=True, max_length=100),
        *_booleans(
            shared="Accessible to all customers.", billable="Purchase and usage is invoiced."
        ),
        ro("scope"),
        ro("scope_uuid"),
        ro("scope_state"),
        ro(
            "files",
            child=nested(
                True,
                rw("name", "string", required=True, max_length=150),
                ro("created", "datetime"),
                rw("file", "file upload", required=True, max_length=100),
            ),
        ),
        ro("quotas"),
        ro("paused_reason", "string"),
        rw("datacite_doi", "string", label="Datacite DOI", max_length=255),
        ro("citation_count", "integer", help_text="Number of citations of a DOI"),
        rw("latitude", "float"),
        rw("longitude", "float"),
        rw("country", "choice", choices=_countries()),
        rw("backend_id", "string", max_length=255),
        _ORGANIZATION_GROUPS,
        rw("image", "image upload", max_length=100),
        ro("total_customers"),
        ro("total_cost"),
        ro("total_cost_estimated"),
        ro("parent_description"),
        ro("parent_uuid"),
        ro("parent_name"),
        rw("backend_metadata", "field"),
        ro("integration_status"),
        ro("google_calendar_is_public"),
        ro("google_calendar_link"),
    )
