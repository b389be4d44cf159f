from audit.management.commands.reencrypt_personal_data import Command as ReencryptCommand


class Command(ReencryptCommand):
    help = (
        "Re-encrypt every registered encrypted column with FIELD_ENCRYPTION_ALGORITHM (fernet, "
        "aes-gcm or sm4-gcm) and the first FIELD_ENCRYPTION_KEY: run after choosing another "
        "algorithm or putting a new key first (the old key can be dropped afterwards). Values "
        "already in that form are left; running it twice is harmless."
    )

    def handle(self, *args, **options):
        from core.crypto import algorithm

        self.stdout.write(f"algorithm: {algorithm()}")
        super().handle(*args, **options)
