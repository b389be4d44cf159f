from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssignmentsConfig(AppConfig):
    name = "assignments"
    verbose_name = _("Tasks from above")

    def ready(self) -> None:
        from assignments import data_protection

        data_protection.register()
