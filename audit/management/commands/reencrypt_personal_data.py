from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import connection, transaction

from audit.registry import encrypted_fields
from core import crypto


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored ID number with the first FIELD_ENCRYPTION_KEY (run after "
        "putting a new key first; the old key can be dropped afterwards)."
    )

    def handle(self, *args, **options):
        # The apps register their encrypted columns with audit.registry (data_protection.py).
        quote = connection.ops.quote_name
        for encrypted in encrypted_fields():
            model, field = apps.get_model(encrypted.model), encrypted.field
            table, column = quote(model._meta.db_table), quote(model._meta.get_field(field).column)
            pk = quote(model._meta.pk.column)
            changed = 0
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f"SELECT {pk}, {column} FROM {table} WHERE {column} <> ''")  # noqa: S608  # nosec B608 # quoted identifiers, bound values
                for row_pk, stored in cursor.fetchall():
                    new = crypto.rotate(stored)
                    if new != stored:
                        cursor.execute(
                            f"UPDATE {table} SET {column} = %s WHERE {pk} = %s",  # noqa: S608  # nosec B608 # quoted identifiers, bound values
                            [new, row_pk],
                        )
                        changed += 1
            self.stdout.write(f"{model._meta.label}: {changed} re-encrypted")
