"""Changing the server: one reconciliation run (`runner`), the applier, the only writer
(`apply`), the per-URL lock (`locks`), and saved plans (`savedplan`, `savedapply`)."""
