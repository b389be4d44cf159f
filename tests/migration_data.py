"""The rows data migrations create (roles, categories ...), kept for transactional tests.

A transactional test (``transactional_db``, ``live_server``, ``django_db(transaction=True)``)
ends with a flush that empties every table, so the next transactional test in the same process
would find no roles or categories. Django's ``serialized_rollback`` would restore them but also
restores content types, which clash with the ones the flush's post_migrate recreates. So the
root conftest snapshots only the project's own apps right after the test database is created,
and puts those rows back before every transactional test (an UPDATE-or-INSERT per row).
"""

from __future__ import annotations

from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core import serializers
from django.db import connection, transaction

SNAPSHOT = ""  # set by the root conftest's django_db_setup


def project_models() -> list:
    base = Path(settings.BASE_DIR).resolve()
    models = []
    for config in apps.get_app_configs():
        if Path(config.path).resolve().is_relative_to(base) and ".venv" not in config.path:
            models.extend(
                model
                for model in config.get_models()
                if model._meta.managed and not model._meta.proxy
            )
    return models


def snapshot() -> str:
    """JSON of every row the project's apps hold right now (after migrate: the data rows)."""
    objects = []
    for model in project_models():
        objects.extend(model._base_manager.using(connection.alias).order_by("pk"))
    return serializers.serialize("json", objects) if objects else ""


def restore(data: str) -> None:
    """Put the snapshot's rows back (existing rows are updated, missing ones inserted)."""
    if not data:
        return
    with transaction.atomic(using=connection.alias), connection.constraint_checks_disabled():
        deferred = []
        for obj in serializers.deserialize(
            "json", data, using=connection.alias, handle_forward_references=True
        ):
            obj.save()
            if obj.deferred_fields:
                deferred.append(obj)
        for obj in deferred:
            obj.save_deferred_fields()
