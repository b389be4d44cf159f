"""Sessions (调解会), the agreement (调解协议书) and its signatures."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models import TimeStampedModel
from mediation.models.cases import CaseParty, MediationCase
from mediation.models.rooms import MediationRoom


class MediationSession(TimeStampedModel):
    class State(models.TextChoices):
        PLANNED = "planned", _("planned")
        HELD = "held", _("held")
        CANCELLED = "cancelled", _("cancelled")

    case = models.ForeignKey(
        MediationCase, on_delete=models.CASCADE, related_name="sessions", verbose_name=_("case")
    )
    room = models.ForeignKey(
        MediationRoom, on_delete=models.PROTECT, related_name="sessions", verbose_name=_("room")
    )
    mediator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="mediation_sessions",
        verbose_name=_("mediator"),
    )
    starts_at = models.DateTimeField(_("starts at"), db_index=True)
    ends_at = models.DateTimeField(_("ends at"))
    place = models.CharField(_("place"), max_length=255)
    state = models.CharField(
        _("state"), max_length=16, choices=State.choices, default=State.PLANNED, db_index=True
    )
    minutes = models.TextField(_("minutes"), blank=True)
    attendees = models.CharField(_("attendees"), max_length=255, blank=True)
    minutes_recorded_at = models.DateTimeField(_("minutes recorded at"), null=True, blank=True)

    class Meta:
        ordering = ["starts_at", "id"]
        verbose_name = _("mediation session")
        verbose_name_plural = _("mediation sessions")
        indexes = [
            models.Index(fields=["mediator", "state", "starts_at"]),
            models.Index(fields=["room", "state", "starts_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="mediation_session_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"{self.case} {timezone.localtime(self.starts_at):%Y-%m-%d %H:%M}"


class MediationAgreement(TimeStampedModel):
    """调解协议书 (人民调解法 Art. 28-30). A written agreement takes effect once every party has
    signed (sealed, fingerprinted), the mediator has signed and the people's mediation committee
    has sealed it (Art. 29): `effective_at` is the latest of those dates, not the moment they
    were entered. An oral agreement is effective from the moment it is recorded (Art. 30)."""

    class Form(models.TextChoices):
        WRITTEN = "written", _("written agreement")
        ORAL = "oral", _("oral agreement")

    case = models.OneToOneField(
        MediationCase, on_delete=models.CASCADE, related_name="agreement", verbose_name=_("case")
    )
    form = models.CharField(_("form"), max_length=16, choices=Form.choices)
    parties_details = models.TextField(_("parties' details"))
    facts = models.TextField(_("main facts"))
    disputed_matters = models.TextField(_("disputed matters"))
    responsibilities = models.TextField(_("responsibilities of each party"), blank=True)
    terms = models.TextField(_("what was agreed"))
    performance_method = models.TextField(_("how it is performed"))
    performance_deadline = models.DateField(_("performed by"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    # The committee's seal (加盖人民调解委员会印章, Art. 29): when it was applied (may be
    # back-dated to the day it was applied on paper) and the mediator or admin who applied it.
    sealed_at = models.DateTimeField(_("committee seal applied at"), null=True, blank=True)
    sealed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("committee seal applied by"),
    )
    effective_at = models.DateTimeField(_("effective at"), null=True, blank=True)

    class Meta:
        verbose_name = _("mediation agreement")
        verbose_name_plural = _("mediation agreements")

    def __str__(self) -> str:
        return f"{self.case} {self.get_form_display()}"

    @property
    def is_effective(self) -> bool:
        return self.effective_at is not None

    @property
    def is_sealed(self) -> bool:
        return self.sealed_at is not None


class AgreementSignature(models.Model):
    """Who signed (sealed, fingerprinted) the written agreement, and when. Append-only."""

    class Method(models.TextChoices):
        SIGNATURE = "signature", _("signature")
        SEAL = "seal", _("seal")
        FINGERPRINT = "fingerprint", _("fingerprint")

    agreement = models.ForeignKey(
        MediationAgreement,
        on_delete=models.CASCADE,
        related_name="signatures",
        verbose_name=_("agreement"),
    )
    party = models.ForeignKey(
        CaseParty,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="signatures",
        verbose_name=_("party"),
        help_text=_("Empty: the mediator's signature."),
    )
    signer_name = models.CharField(_("signed by"), max_length=64)
    method = models.CharField(
        _("method"), max_length=16, choices=Method.choices, default=Method.SIGNATURE
    )
    signed_at = models.DateTimeField(_("signed at"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
    )

    class Meta:
        ordering = ["signed_at", "id"]
        verbose_name = _("signature")
        verbose_name_plural = _("signatures")
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "party"],
                condition=models.Q(party__isnull=False),
                name="agreement_signature_one_per_party",
            ),
            models.UniqueConstraint(
                fields=["agreement"],
                condition=models.Q(party__isnull=True),
                name="agreement_signature_one_mediator",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.signer_name} {self.signed_at:%Y-%m-%d}"
