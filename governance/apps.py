from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GovernanceConfig(AppConfig):
    name = "governance"
    verbose_name = _("Portal")

    def ready(self) -> None:
        from governance import signals

        signals.connect()  # exports to the audit log
        from governance import resident_figures

        resident_figures.connect()  # the public home's figures (residents.city_figures)
