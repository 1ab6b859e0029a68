"""Side tools around the spine: `export` (the live catalog as a file), `compact` (the
target_defaults it finds), the EESSI importers (`eessi`, `eessi_api`) and the YAML `writer`."""
