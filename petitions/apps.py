from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PetitionsConfig(AppConfig):
    name = "petitions"
    verbose_name = _("Petitions")

    def ready(self) -> None:
        from incidents import detail_links
        from petitions.links import linked_petitions

        detail_links.register("petitions", linked_petitions)
        # audit's retention job and key rotation work on this app's personal data.
        from petitions import data_protection

        data_protection.register()
