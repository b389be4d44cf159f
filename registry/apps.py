from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistryConfig(AppConfig):
    name = "registry"
    verbose_name = _("Grid basic data")

    def ready(self) -> None:
        # audit's key rotation re-encrypts this app's personal data.
        from registry import data_protection

        data_protection.register()
