"""Fixtures every app's tests share. Browser and worker-process fixtures: tests/conftest.py."""

import pytest
from django.conf import settings


def pytest_collection_modifyitems(config, items):
    # PostgreSQL-only tests are deselected (reported, not skipped) on the SQLite run; CI runs
    # the whole suite a second time on PostgreSQL where they execute.
    if settings.DATABASE_IS_POSTGRES:
        return
    selected, deselected = [], []
    for item in items:
        (deselected if item.get_closest_marker("postgres") else selected).append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected


@pytest.fixture(autouse=True)
def _isolated_media_and_eager_celery(settings, tmp_path):
    """Uploads go to a temporary folder; tasks run in-process unless a test starts a worker."""
    from core import process_cache
    from governance.celery import app

    # Per-process copies outlive a test's rolled-back transaction: start fresh. Every
    # core.process_cache.ProcessCopy: the report's categories, the queue's pickers, the routing
    # directory, the locator's index, the working calendar, the webhook flag ...
    process_cache.clear_all_local()

    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SMS_FILE_PATH = str(tmp_path / "sms.log")
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture(scope="session", autouse=True)
def application_log_file(tmp_path_factory):
    """Everything the application logs during the session is also written to a file, through
    the same personal-data filter as the configured handlers; tests/test_personal_data.py
    greps it for phones and ID numbers."""
    import logging

    from core.logging import PersonalDataFilter

    path = tmp_path_factory.mktemp("logs") / "application.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    handler.addFilter(PersonalDataFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    yield path
    root.removeHandler(handler)
    handler.close()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Right after the test database is migrated, remember the rows data migrations made."""
    from tests import migration_data

    with django_db_blocker.unblock():
        migration_data.SNAPSHOT = migration_data.snapshot()


@pytest.fixture(autouse=True)
def _migration_data_for_transactional_tests(request):
    """An earlier transactional test's flush emptied the roles, categories ...: put them back."""
    marker = request.node.get_closest_marker("django_db")
    transactional = bool(
        {"transactional_db", "live_server"} & set(request.fixturenames)
        or (marker and (marker.kwargs.get("transaction") or (marker.args and marker.args[0])))
    )
    if transactional:
        from tests import migration_data

        request.getfixturevalue("transactional_db")
        migration_data.restore(migration_data.SNAPSHOT)


@pytest.fixture
def region_tree(db):
    from tests.builders import make_region_tree

    return make_region_tree()
