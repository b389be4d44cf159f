from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = _("Audit log")

    def ready(self) -> None:
        from celery.signals import after_setup_logger, after_setup_task_logger

        from audit import signals
        from core.logging import install_on_handlers

        signals.connect()
        # The Celery worker sets up its own log handlers: they mask personal data too.
        after_setup_logger.connect(install_on_handlers, weak=False)
        after_setup_task_logger.connect(install_on_handlers, weak=False)
