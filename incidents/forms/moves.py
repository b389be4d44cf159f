"""One small form per move of the loop (incidents.views.PAGE_ACTIONS), and bulk assign."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from incidents import page_selectors
from incidents.forms._common import (
    DATETIME_LOCAL,
    TEXT_MAX,
    CategoryField,
    PhotosField,
    PortalForm,
    category_choices,
)
from incidents.models import HandlingLevel

# --- the moves of the loop (one form per action) ----------------------------------------------


class NoteForm(PortalForm):
    note = forms.CharField(
        required=False,
        max_length=TEXT_MAX,
        label=_("Note"),
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class EmptyForm(PortalForm):
    """An action that needs nothing but the button."""


class ReasonForm(PortalForm):
    reason = forms.CharField(
        max_length=TEXT_MAX,
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ReasonPhotosForm(ReasonForm):
    photos = PhotosField()


class NotePhotosForm(NoteForm):
    photos = PhotosField()


class VerifyForm(NotePhotosForm):
    category = CategoryField(label=_("Correct the category"), required=False)

    field_order = ["category", "note", "photos"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = category_choices(self.user, blank=_("Keep the category"))


class ResolveForm(PortalForm):
    result = forms.CharField(
        max_length=TEXT_MAX,
        label=_("What was done"),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    photos = PhotosField(label=_("Evidence photos"))


class FixOnSpotForm(ResolveForm):
    photos = PhotosField(required=True, label=_("Evidence photos"))


def staff_select_choices(user: User | None, *, blank: str) -> list[tuple[str, str]]:
    if user is None:
        return [("", blank)]
    # Kept per process until a user, a region or a role changes (page_selectors.staff_options).
    return [("", blank), *page_selectors.staff_options(user)]


class AssignVerifierForm(NoteForm):
    verifier = forms.TypedChoiceField(coerce=int, label=_("Who verifies"))

    field_order = ["verifier", "note"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["verifier"].choices = staff_select_choices(
            self.user, blank=_("Choose a person")
        )


TARGET_CHOICES = [
    ("person", _("A person")),
    ("unit", _("A unit")),
    ("pool", _("The claim pool of the grid")),
]


class TargetForm(NoteForm):
    """Where a dispatcher sends the incident: a person, a unit (level and department) or the
    claim pool of its grid cell."""

    target = forms.ChoiceField(
        choices=TARGET_CHOICES, initial="person", widget=forms.RadioSelect, label=_("Send to")
    )
    assignee = forms.TypedChoiceField(
        coerce=int, required=False, empty_value=None, label=_("Person")
    )
    level = forms.ChoiceField(required=False, label=_("Unit level"))
    department = forms.ChoiceField(required=False, label=_("Department"))

    field_order = ["target", "assignee", "level", "department", "note"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].choices = staff_select_choices(
            self.user, blank=_("Choose a person")
        )
        self.fields["level"].choices = [("", _("Choose a level")), *HandlingLevel.choices]
        self.fields["department"].choices = [("", _("No department"))] + [
            (name, name) for name in page_selectors.department_choices()
        ]

    def clean(self) -> dict:
        data = super().clean()
        target = data.get("target")
        if target == "person" and not data.get("assignee"):
            self.add_error("assignee", _("Choose a person."))
        if target == "unit" and not data.get("level"):
            self.add_error("level", _("Choose a level."))
        if data.get("level") == HandlingLevel.DEPARTMENT and not data.get("department"):
            self.add_error("department", _("Name the department."))
        return data

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        target = data["target"]
        return {
            "assignee_id": data.get("assignee") if target == "person" else None,
            "level": data.get("level", "") if target == "unit" else "",
            "department": data.get("department", "") if target == "unit" else "",
            "to_pool": target == "pool",
            "note": data.get("note", ""),
        }

    def move_data(self) -> dict:
        """service_kwargs() under the API's names (incidents.moves.target_kwargs)."""
        kwargs = self.service_kwargs()
        return {
            "assignee": kwargs["assignee_id"],
            "level": kwargs["level"],
            "department": kwargs["department"],
            "to_pool": kwargs["to_pool"],
            "note": kwargs["note"],
        }


class ExtensionForm(ReasonForm):
    until = forms.DateTimeField(
        label=_("New deadline"),
        input_formats=[DATETIME_LOCAL, "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
    )

    field_order = ["until", "reason"]


class UnparkForm(NoteForm):
    resolve_by = forms.DateTimeField(
        required=False,
        label=_("New resolve deadline (empty: the category's limit from now)"),
        input_formats=[DATETIME_LOCAL, "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
    )

    field_order = ["resolve_by", "note"]


# --- the dispatch queue -----------------------------------------------------------------------


class BulkAssignForm(PortalForm):
    """Several incidents of the queue to one person."""

    incident = forms.TypedMultipleChoiceField(coerce=int, label=_("Incidents"))
    assignee = forms.TypedChoiceField(coerce=int, label=_("Assign the selected to"))
    note = forms.CharField(required=False, max_length=TEXT_MAX, label=_("Note"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].choices = staff_select_choices(
            self.user, blank=_("Choose a person")
        )
        self.fields["assignee"].error_messages["required"] = _("Choose a person.")
        self.fields["incident"].error_messages["required"] = _("Select at least one incident.")

    def full_clean(self) -> None:
        # The ids are checked against the user's visible incidents by the view, one by one.
        ids = self.data.getlist("incident") if hasattr(self.data, "getlist") else []
        self.fields["incident"].choices = [(value, value) for value in ids]
        super().full_clean()
