"""Tasks from above (上级交办任务): an office issues a task to grid cells, a community or named
workers; it fans out into one Assignment per cell or worker, each moving through its own
workflow (issued → accepted → done / returned / overdue) with an append-only timeline.

A service of court documents (司法送达) is a task whose kind says so: it carries the document
and the addressee (DocumentService) and each assignment records the outcome (delivered, refused,
not found) that the receipt (送达回证) prints. A special campaign (专项行动) groups tasks over many
cells under one deadline.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.crypto import EncryptedCharField
from core.models import TimelineEvent, TimeStampedModel
from core.workflow import Graph, Move
from grids.models import GridCell, Region


class TaskKind(models.Model):
    """Admin-editable list of kinds (司法送达, 走访核查, 政策宣传, 专项排查 …); the defaults come
    from a data migration. The hours drive the sweep's warning and escalation."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=64)
    description = models.TextField(pgettext_lazy("task", "description"), blank=True)
    is_service_of_documents = models.BooleanField(
        _("service of documents"),
        default=False,
        help_text=_("Tasks of this kind carry a document and an addressee and end in a receipt."),
    )
    warn_hours = models.PositiveIntegerField(
        _("warn hours before the deadline"), default=24, validators=[MaxValueValidator(24 * 30)]
    )
    escalate_hours = models.PositiveIntegerField(
        _("hours overdue before each escalation"),
        default=24,
        validators=[MinValueValidator(1), MaxValueValidator(24 * 30)],
    )
    active = models.BooleanField(_("active"), default=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["order", "code"]
        verbose_name = _("task kind")
        verbose_name_plural = _("task kinds")

    def __str__(self) -> str:
        return self.name


class IssuerGrant(models.Model):
    """An explicit right to issue tasks into a region, for staff whose role alone does not give
    it (a court liaison, a department): dispatchers, supervisors and admins may issue into their
    own scope region without one."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="task_issuer_grants",
        verbose_name=_("user"),
    )
    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="+", verbose_name=_("region")
    )
    office = models.CharField(
        pgettext_lazy("task", "office"),
        max_length=64,
        help_text=_("e.g. 芗城区人民法院, 西桥街道综治中心"),
    )
    active = models.BooleanField(_("active"), default=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["user_id", "region__code"]
        verbose_name = _("task issuer grant")
        verbose_name_plural = _("task issuer grants")
        constraints = [
            models.UniqueConstraint(fields=["user", "region"], name="assignments_grant_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.region} ({self.office})"


class Campaign(TimeStampedModel):
    """A special campaign (专项行动): tasks over many cells with one deadline."""

    title = models.CharField(pgettext_lazy("task", "title"), max_length=120)
    description = models.TextField(pgettext_lazy("task", "description"), blank=True)
    office = models.CharField(pgettext_lazy("task", "office"), max_length=64)
    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="+", verbose_name=_("region")
    )
    deadline = models.DateTimeField(pgettext_lazy("task", "deadline"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("created by"),
    )

    class Meta:
        ordering = ["-deadline", "-id"]
        verbose_name = _("special campaign")
        verbose_name_plural = _("special campaigns")

    def __str__(self) -> str:
        return self.title


class FieldType(models.TextChoices):
    TEXT = "text", _("text")
    NUMBER = "number", _("number")
    CHOICE = "choice", _("choice")
    YES_NO = "yes_no", _("yes / no")


class Task(TimeStampedModel):
    """What an office asks of the grid. Its assignments carry the state; the task itself is
    only ever cancelled as a whole (every open assignment)."""

    kind = models.ForeignKey(
        TaskKind, on_delete=models.PROTECT, related_name="tasks", verbose_name=_("kind")
    )
    title = models.CharField(pgettext_lazy("task", "title"), max_length=120)
    instructions = models.TextField(pgettext_lazy("task", "instructions"))
    office = models.CharField(_("issuing office"), max_length=64)
    office_region = models.ForeignKey(
        Region,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("office's region"),
        help_text=_("The region the task was issued into; the office sees its tasks there."),
    )
    issuer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="tasks_issued",
        verbose_name=_("issued by"),
    )
    deadline = models.DateTimeField(pgettext_lazy("task", "deadline"), db_index=True)
    requires_photo = models.BooleanField(_("photo required"), default=False)
    requires_signature = models.BooleanField(_("signature required"), default=False)
    requires_gps = models.BooleanField(_("location required"), default=False)
    form_fields = models.JSONField(
        _("form fields"),
        default=list,
        blank=True,
        help_text=_("The fields the worker fills in: name, label, type, required, choices."),
    )
    campaign = models.ForeignKey(
        Campaign,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tasks",
        verbose_name=_("special campaign"),
    )
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = pgettext_lazy("task", "task")
        verbose_name_plural = pgettext_lazy("task", "tasks")

    def __str__(self) -> str:
        return self.title


class DocumentService(models.Model):
    """The document and the addressee of a service of court documents (司法送达)."""

    task = models.OneToOneField(
        Task,
        on_delete=models.CASCADE,
        related_name="service",
        verbose_name=pgettext_lazy("task", "task"),
    )
    document_title = models.CharField(pgettext_lazy("task", "document"), max_length=120)
    case_number = models.CharField(_("case number"), max_length=64, blank=True)
    authority = models.CharField(_("issuing authority"), max_length=64)
    addressee_name = models.CharField(pgettext_lazy("task", "addressee"), max_length=64)
    addressee_phone = EncryptedCharField(_("addressee's phone"), blank=True)
    addressee_id_number = EncryptedCharField(_("addressee's ID number"), blank=True)
    addressee_address = models.CharField(_("address for service"), max_length=200)
    # The addressee in the grid's basic data (registry), where they are known there: a person,
    # or only an address (a home, or a building).
    addressee_person = models.ForeignKey(
        "registry.Person",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("addressee (registry person)"),
    )
    addressee_home = models.ForeignKey(
        "registry.Home",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("address (registry home)"),
    )
    addressee_building = models.ForeignKey(
        "registry.Building",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("address (registry building)"),
    )

    class Meta:
        verbose_name = _("service of documents")
        verbose_name_plural = _("services of documents")

    def __str__(self) -> str:
        return self.document_title


def attachment_path(instance: TaskAttachment, filename: str) -> str:
    return f"assignments/attachments/{instance.task_id}/{filename}"


class TaskAttachment(models.Model):
    task = models.ForeignKey(
        Task,
        on_delete=models.CASCADE,
        related_name="attachments",
        verbose_name=pgettext_lazy("task", "task"),
    )
    file = models.FileField(_("file"), upload_to=attachment_path)
    name = models.CharField(_("name"), max_length=120)
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.name


class AssignmentState(models.TextChoices):
    ISSUED = "issued", pgettext_lazy("task", "issued")
    ACCEPTED = "accepted", pgettext_lazy("task", "accepted")
    DONE = "done", pgettext_lazy("task", "done")
    RETURNED = "returned", pgettext_lazy("task", "returned")
    OVERDUE = "overdue", pgettext_lazy("task", "overdue")
    CANCELLED = "cancelled", pgettext_lazy("task", "cancelled")


class AssignmentAction(models.TextChoices):
    ISSUE = "issue", pgettext_lazy("task", "issue")
    ACCEPT = "accept", pgettext_lazy("task", "accept")
    COMPLETE = "complete", pgettext_lazy("task", "complete")
    RETURN = "return", pgettext_lazy("task", "return")
    REASSIGN = "reassign", pgettext_lazy("task", "reassign")
    CANCEL = "cancel", pgettext_lazy("task", "cancel")
    REOPEN = "reopen", pgettext_lazy("task", "send back for rework")
    OVERDUE = "overdue", pgettext_lazy("task", "overdue")
    WARN = "warn", pgettext_lazy("task", "deadline warning")
    ESCALATE = "escalate", pgettext_lazy("task", "escalate")


class DeliveryOutcome(models.TextChoices):
    DELIVERED = "delivered", pgettext_lazy("task", "delivered")
    REFUSED = "refused", pgettext_lazy("task", "refused")
    NOT_FOUND = "not_found", pgettext_lazy("task", "addressee not found")


S = AssignmentState
A = AssignmentAction
OPEN_STATES = (S.ISSUED, S.ACCEPTED, S.OVERDUE)
FINAL_STATES = (S.DONE, S.CANCELLED)

GRAPH = Graph(
    {
        A.ACCEPT: {S.ISSUED: S.ACCEPTED, S.OVERDUE: S.OVERDUE},
        A.COMPLETE: Move([S.ACCEPTED, S.OVERDUE], S.DONE),
        A.RETURN: Move([S.ISSUED, S.ACCEPTED, S.OVERDUE], S.RETURNED),
        A.REASSIGN: Move([S.RETURNED], S.ISSUED),
        A.CANCEL: Move([S.ISSUED, S.ACCEPTED, S.OVERDUE, S.RETURNED], S.CANCELLED),
        A.REOPEN: Move([S.DONE], S.ACCEPTED),
        A.OVERDUE: Move([S.ISSUED, S.ACCEPTED], S.OVERDUE),
        A.WARN: Move([S.ISSUED, S.ACCEPTED]),
        A.ESCALATE: Move([S.OVERDUE]),
    }
)


def evidence_path(instance: Assignment, filename: str) -> str:
    return f"assignments/evidence/{instance.task_id}/{instance.pk}-{filename}"


class Assignment(TimeStampedModel):
    """One cell's or one worker's share of a task. A cell's assignment has no worker until one
    of the cell's workers accepts it; a named worker's has no cell."""

    task = models.ForeignKey(
        Task,
        on_delete=models.PROTECT,
        related_name="assignments",
        verbose_name=pgettext_lazy("task", "task"),
    )
    cell = models.ForeignKey(
        GridCell,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("grid cell"),
    )
    worker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="task_assignments",
        verbose_name=_("worker"),
    )
    region_code = models.CharField(_("region code"), max_length=12, db_index=True)
    state = models.CharField(
        _("state"), max_length=16, choices=AssignmentState.choices, default=S.ISSUED
    )
    due_at = models.DateTimeField(pgettext_lazy("task", "deadline"), db_index=True)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    overdue_since = models.DateTimeField(_("overdue since"), null=True, blank=True)
    ever_overdue = models.BooleanField(_("was overdue"), default=False)
    warned_for = models.DateTimeField(_("warned for the deadline"), null=True, blank=True)
    escalation_level = models.PositiveSmallIntegerField(_("escalation level"), default=0)
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    # The result, as the worker recorded it.
    result_note = models.TextField(_("result"), blank=True)
    form_answers = models.JSONField(_("form answers"), default=dict, blank=True)
    latitude = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    photo = models.FileField(_("photo"), upload_to=evidence_path, blank=True)
    signature = models.FileField(_("signature"), upload_to=evidence_path, blank=True)
    delivery_outcome = models.CharField(
        _("outcome of service"), max_length=16, choices=DeliveryOutcome.choices, blank=True
    )
    served_at = models.DateTimeField(_("served at"), null=True, blank=True)
    served_place = models.CharField(_("place of service"), max_length=200, blank=True)
    not_signed_reason = models.TextField(_("why it was not signed"), blank=True)
    return_reason = models.TextField(_("reason for returning"), blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        verbose_name = pgettext_lazy("task", "assignment")
        verbose_name_plural = pgettext_lazy("task", "assignments")
        constraints = [
            models.CheckConstraint(
                condition=Q(cell__isnull=False) | Q(worker__isnull=False),
                name="assignments_assignment_has_target",
            ),
            models.UniqueConstraint(
                fields=["task", "cell"],
                condition=Q(cell__isnull=False),
                name="assignments_one_per_cell",
            ),
            models.UniqueConstraint(
                fields=["task", "worker"],
                condition=Q(cell__isnull=True),
                name="assignments_one_per_worker",
            ),
            models.CheckConstraint(
                condition=Q(state__in=[s.value for s in AssignmentState]),
                name="assignments_assignment_state_valid",
            ),
            models.CheckConstraint(
                condition=~Q(state="done") | Q(done_at__isnull=False),
                name="assignments_done_has_time",
            ),
        ]
        indexes = [models.Index(fields=["state", "due_at"], name="assignments_state_due")]

    def __str__(self) -> str:
        return f"{self.task_id}/{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def receipt_number(self) -> str:
        return f"SD{self.created_at:%Y}{self.pk:06d}" if self.created_at else ""


class AssignmentEvent(TimelineEvent):
    """The append-only timeline of an assignment: one row per move, never changed."""

    assignment = models.ForeignKey(
        Assignment,
        on_delete=models.PROTECT,
        related_name="events",
        verbose_name=pgettext_lazy("task", "assignment"),
    )
    from_state = models.CharField(_("from"), max_length=16, blank=True)
    to_state = models.CharField(_("to"), max_length=16, blank=True)

    class Meta(TimelineEvent.Meta):
        verbose_name = _("assignment event")
        verbose_name_plural = _("assignment timeline")

    def __str__(self) -> str:
        return f"{self.assignment_id} {self.action}"

    @property
    def action_label(self) -> str:
        try:
            return str(AssignmentAction(self.action).label)
        except ValueError:
            return self.action
