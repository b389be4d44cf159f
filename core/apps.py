from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from core.calendar import calendar_changed
        from core.models import OfficeHours

        # core.calendar keeps a per-process copy of the office hours: a change drops it.
        post_save.connect(calendar_changed, sender=OfficeHours, dispatch_uid="core_hours_saved")
        post_delete.connect(calendar_changed, sender=OfficeHours, dispatch_uid="core_hours_deleted")
