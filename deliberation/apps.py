from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DeliberationConfig(AppConfig):
    name = "deliberation"
    verbose_name = _("Community deliberation")

    def ready(self) -> None:
        from deliberation import conversions, data_protection

        conversions.register_own()
        data_protection.register()
