"""Celery wiring (cookiecutter-django style): settings come from Django's CELERY_* names.

The task base class `GridGovTask` (a send survives a broker outage), its circuit breaker and
`queue_backlog()` live in core.celery_base (issue 16); they are re-exported here so that old
imports keep working. Lower apps import them from core.celery_base.
"""

from __future__ import annotations

import os

from celery import Celery
from celery.signals import task_postrun, task_prerun

from core.celery_base import (  # noqa: F401 - re-exported for old imports
    BROKER_ERRORS,
    BROKER_RETRY_AFTER,
    GridGovTask,
    broker_breaker,
    queue_backlog,
)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")

app = Celery("governance", task_cls=GridGovTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect(weak=False, dispatch_uid="governance_db_prerun")
@task_postrun.connect(weak=False, dispatch_uid="governance_db_postrun")
def _close_old_connections(sender=None, **kwargs) -> None:
    """What Django does around each web request, around each task: drop a connection that
    failed, has outlived CONN_MAX_AGE or was left in a transaction (the health check runs on
    its next use). With CELERY_DB_REUSE_MAX set, Celery's fixup no longer closes connections
    after every task (settings.py), so this keeps a broken one from lingering."""
    if getattr(getattr(sender, "request", None), "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()
