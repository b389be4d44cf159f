from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IncidentsConfig(AppConfig):
    name = "incidents"
    verbose_name = _("Incidents")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from incidents.category_cache import category_changed
        from incidents.models import Category

        # Reports read the categories from a per-process copy (incidents.category_cache).
        post_save.connect(
            category_changed, sender=Category, dispatch_uid="incidents_category_saved"
        )
        post_delete.connect(
            category_changed, sender=Category, dispatch_uid="incidents_category_deleted"
        )
        self._connect_pickers()
        # audit's retention job and key rotation work on this app's personal data.
        from incidents import data_protection

        data_protection.register()
        # The key person's page (registry) lists the person's incidents.
        from incidents.registry_links import person_incidents
        from registry import links as registry_links

        registry_links.register("incidents", person_incidents)

    @staticmethod
    def _connect_pickers() -> None:
        """The queue's pickers (cells, communities, staff) are kept per process
        (incidents.page_selectors): a change of what they show publishes a new token."""
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from accounts.models import User
        from grids.models import GridCell, Region
        from incidents.caches import pickers_changed

        for model in (GridCell, Region, User):
            name = model._meta.label_lower
            post_save.connect(pickers_changed, sender=model, dispatch_uid=f"pickers_saved_{name}")
            post_delete.connect(
                pickers_changed, sender=model, dispatch_uid=f"pickers_deleted_{name}"
            )
        m2m_changed.connect(
            pickers_changed, sender=User.roles.through, dispatch_uid="pickers_user_roles"
        )
