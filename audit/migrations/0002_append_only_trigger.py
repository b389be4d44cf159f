"""On PostgreSQL the audit table refuses UPDATE, DELETE and TRUNCATE whatever the role: a
trigger raises. The privileges are revoked too from PUBLIC and, if AUDIT_APP_DB_ROLE names it,
from the application's role (when migrations run as the owner). SQLite: the model's guard only.

TRUNCATE is left allowed in the test run alone (pytest's transactional tests empty every table
with one TRUNCATE); UPDATE and DELETE are refused there too (tests/test_personal_data.py)."""

import os

from django.conf import settings
from django.db import migrations

TABLE = "audit_auditevent"
FUNCTION = """
CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_auditevent is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTION, params=None)  # no placeholders: RAISE uses "%"
    schema_editor.execute(
        f"CREATE TRIGGER audit_event_no_update_delete BEFORE UPDATE OR DELETE ON {TABLE} "
        "FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()"
    )
    if not settings.TESTING:
        schema_editor.execute(
            f"CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON {TABLE} "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only()"
        )
    schema_editor.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON {TABLE} FROM PUBLIC")
    role = os.environ.get("AUDIT_APP_DB_ROLE", "").strip()
    if role:
        quoted = schema_editor.quote_name(role)
        schema_editor.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON {TABLE} FROM {quoted}")


def backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP TRIGGER IF EXISTS audit_event_no_truncate ON {TABLE}")
    schema_editor.execute(f"DROP TRIGGER IF EXISTS audit_event_no_update_delete ON {TABLE}")
    schema_editor.execute("DROP FUNCTION IF EXISTS audit_event_append_only()")


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_audit_log")]

    operations = [migrations.RunPython(forward, backward)]
