from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ResidentServicesConfig(AppConfig):
    name = "resident_services"
    verbose_name = _("Resident services")
