"""waldur-sim's copies of Waldur's catalog loaders (EESSI, Spack) and the three catalog actions
that drive them (`discover`, `import_catalog`, `update_catalog`, upstream API 8.0.2+).

- `data.py`: what a loader reads from its source, kind-neutral (catalog → packages → versions
  → targets), as upstream's `CatalogData`;
- `sources.py`: the local files standing in for upstream's download URLs, and the switches a
  test flips at runtime (`/api/_sim/loaders/`);
- `eessi.py`, `spack.py`: upstream's two loaders: version detection and source → `CatalogData`;
- `writer.py`: a load as one transaction, with or without upstream's `sync`;
- `worker.py`: the background worker (upstream's Celery task) and its timing;
- `actions.py`: the HTTP side: the three actions and the control endpoint.

The user documentation is `docs/reference/waldur-sim-loaders.md`.
"""
