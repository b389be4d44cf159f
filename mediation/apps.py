from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MediationConfig(AppConfig):
    name = "mediation"
    verbose_name = _("Mediation")

    def ready(self) -> None:
        from incidents import detail_links
        from mediation.links import linked_case

        detail_links.register("mediation", linked_case)
        # audit's retention job and key rotation work on this app's personal data.
        from mediation import data_protection

        data_protection.register()
