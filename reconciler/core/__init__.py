"""The domain, pure: kinds and keys, errors, wire dialects, value rules, the plan and its guards.

Nothing here does I/O or imports httpx or YAML; everything else builds on it.
"""
