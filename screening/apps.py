from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ScreeningConfig(AppConfig):
    name = "screening"
    verbose_name = _("Dispute screening")

    def ready(self) -> None:
        from screening import data_protection

        data_protection.register()
