from django.apps import AppConfig


class BenchAppConfig(AppConfig):
    name = "bench.benchapp"
    label = "benchapp"
    verbose_name = "bench"
    default_auto_field = "django.db.models.BigAutoField"
