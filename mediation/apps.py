from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MediationConfig(AppConfig):
    name = "mediation"
    verbose_name = _("Mediation")

    def ready(self) -> None:
        from incidents import detail_links
        from mediation.links import linked_case

        detail_links.register("mediation", linked_case)
        # The key person's page (registry) lists the person's mediation cases.
        from mediation.registry_links import person_cases
        from registry import links as registry_links

        registry_links.register("mediation", person_cases)
        # audit's retention job and key rotation work on this app's personal data.
        from mediation import data_protection

        data_protection.register()
