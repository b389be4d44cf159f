"""Health of the parts the portal needs: the database, the broker, and a live worker."""

from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone


def _database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return {"ok": True}
    except Exception as exc:
        return {"ok": False, "error": exc.__class__.__name__}


def _broker() -> dict:
    from governance.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return {"ok": True, "transport": conn.transport_cls}
    except Exception as exc:
        return {"ok": False, "error": exc.__class__.__name__}


def _worker() -> dict:
    from core.models import WorkerHeartbeat

    try:
        last = WorkerHeartbeat.objects.order_by("-seen_at").first()
    except Exception as exc:
        return {"ok": False, "error": exc.__class__.__name__}
    if last is None:
        return {"ok": False, "error": "no heartbeat yet"}
    age = (timezone.now() - last.seen_at).total_seconds()
    ok = age <= timedelta(seconds=settings.WORKER_HEARTBEAT_MAX_AGE).total_seconds()
    return {"ok": ok, "last_seen": last.seen_at.isoformat(), "age_seconds": round(age, 1)}


def health_report() -> dict:
    checks = {"database": _database(), "broker": _broker(), "worker": _worker()}
    status = "ok" if all(check["ok"] for check in checks.values()) else "down"
    return {"status": status, "checks": checks}
