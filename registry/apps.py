from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistryConfig(AppConfig):
    name = "registry"
    verbose_name = _("Grid basic data")

    def ready(self) -> None:
        # audit's key rotation re-encrypts this app's personal data.
        from registry import data_protection

        data_protection.register()
        # 等保 (issue 23): whoever may open key persons' records signs in with a second factor
        # when the security policy's "key-person access" switch is on.
        from accounts.policy import two_factor_requirement_register
        from registry.policies import key_person_q

        two_factor_requirement_register(
            "key_person",
            lambda user: "grid_worker" in user.role_codes or key_person_q(user) is not None,
        )
