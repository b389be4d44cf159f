"""The default key-person kinds, visit plans, grants and tags (the data migration 0002), for
code that runs after a flush emptied them (transactional tests, the demo loader)."""

import importlib


def ensure_defaults() -> None:
    """Create the defaults that are missing (idempotent; never overwrites local edits)."""
    from django.apps import apps

    migration = importlib.import_module("registry.migrations.0002_default_kinds_and_plans")
    migration.forward(apps, None)
