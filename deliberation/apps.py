from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DeliberationConfig(AppConfig):
    name = "deliberation"
    verbose_name = _("Community deliberation")

    def ready(self) -> None:
        from deliberation import conversions

        conversions.register_own()
