"""core.celery_base: the task base class lives in core; governance.celery re-exports it."""

from __future__ import annotations

import logging

import pytest

from core import celery_base


def test_the_old_import_path_still_works():
    from governance import celery

    for name in celery_base.__all__:
        assert getattr(celery, name) is getattr(celery_base, name)
    assert isinstance(celery.app.Task, type)
    assert issubclass(celery.app.Task, celery_base.GridGovTask)


def test_lower_apps_import_it_from_core():
    from incidents import tasks

    assert issubclass(tasks.IncidentTask, celery_base.GridGovTask)


def test_a_send_while_the_breaker_is_open_is_logged_not_raised(caplog):
    from governance.celery import app

    failed = []

    @app.task(name="core.tests.test_celery_base.probe", bind=True, shared=False)
    def probe(self, pk):  # pragma: no cover - never runs: the send is refused
        return pk

    probe.publish_failed = lambda args, kwargs: failed.append(args)
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = False
    celery_base.broker_breaker.trip()
    try:
        with caplog.at_level(logging.WARNING, logger="governance.celery"):
            assert probe.delay(7) is None
    finally:
        celery_base.broker_breaker.reset()
        app.conf.task_always_eager = previous
    assert failed == [(7,)]
    assert "not sent" in caplog.text


def test_queue_backlog_is_zero_when_eager_or_the_breaker_is_open():
    from governance.celery import app

    assert app.conf.task_always_eager  # the root conftest runs tasks in-process
    assert celery_base.queue_backlog() == 0
    celery_base.broker_breaker.trip()
    try:
        app.conf.task_always_eager = False
        assert celery_base.queue_backlog() == 0
    finally:
        app.conf.task_always_eager = True
        celery_base.broker_breaker.reset()


@pytest.mark.django_db
def test_enqueue_on_commit_keeps_the_broker_outage_behaviour(
    caplog, django_capture_on_commit_callbacks
):
    """core.transactions.enqueue_on_commit adds nothing: GridGovTask's send handles the outage."""
    from django.db import transaction

    from core.transactions import enqueue_on_commit
    from governance.celery import app

    failed = []

    @app.task(name="core.tests.test_celery_base.probe2", bind=True, shared=False)
    def probe(self, pk):  # pragma: no cover - never runs
        return pk

    probe.publish_failed = lambda args, kwargs: failed.append(args)
    app.conf.task_always_eager = False
    celery_base.broker_breaker.trip()
    try:
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            enqueue_on_commit(probe, 3)
    finally:
        celery_base.broker_breaker.reset()
        app.conf.task_always_eager = True
    assert failed == [(3,)]
