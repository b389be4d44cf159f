"""Forms of the screening pages: they check the shape of the input; the services check the rest
(scope, state, the rules) and their field messages are put back on the form."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from screening import selectors
from screening.models import (
    DisputeKind,
    DisputeOutcome,
    DisputeSource,
    PartySide,
    RiskFactor,
    RiskLevel,
    RouteTarget,
)


def _kind_choices() -> list[tuple[str, str]]:
    return [(k.code, k.display_name) for k in DisputeKind.objects.filter(active=True)]


def _factor_choices() -> list[tuple[str, str]]:
    return [(f.code, f.display_name) for f in RiskFactor.objects.filter(active=True)]


class DisputeForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind of dispute"))
    source = forms.ChoiceField(
        label=_("Source"), choices=DisputeSource.choices, initial=DisputeSource.SCREENING
    )
    region = forms.ChoiceField(label=_("Community"), required=False)
    grid_cell = forms.ChoiceField(label=_("Grid cell"), required=False)
    place = forms.CharField(label=_("Place"), max_length=255)
    story = forms.CharField(label=_("What happened"), widget=forms.Textarea(attrs={"rows": 4}))
    factors = forms.MultipleChoiceField(
        label=_("Risk factors"), required=False, widget=forms.CheckboxSelectMultiple
    )
    level = forms.ChoiceField(
        label=_("Raise the level by hand (optional)"),
        required=False,
        choices=[("", _("as the rules give")), *RiskLevel.choices],
    )
    level_reason = forms.CharField(label=_("Reason for raising"), required=False)
    incident = forms.CharField(
        label=_("Referring incident (tracking number)"), required=False, max_length=16
    )
    petition = forms.CharField(
        label=_("Referring petition (tracking number)"), required=False, max_length=16
    )

    def __init__(self, *args, user: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = _kind_choices()
        self.fields["factors"].choices = _factor_choices()
        communities = selectors.communities_visible(user).order_by("code")
        self.fields["region"].choices = [("", "—")] + [(r.code, r.name) for r in communities]
        cells = selectors.cells_for_register(user)
        self.fields["grid_cell"].choices = [("", "—")] + [(str(c.pk), c.name) for c in cells]

    def clean(self):
        data = super().clean()
        if not data.get("region") and not data.get("grid_cell"):
            self.add_error("region", _("Choose the community or the grid cell."))
        return data


class PartyForm(forms.Form):
    side = forms.ChoiceField(label=_("Side"), choices=PartySide.choices, required=False)
    name = forms.CharField(label=_("Name"), max_length=64, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=20, required=False)
    vulnerable = forms.BooleanField(label=_("Vulnerable"), required=False)
    person_id = forms.IntegerField(
        label=_("Person record (registry number, optional)"), required=False, min_value=1
    )


PartyFormSet = forms.formset_factory(PartyForm, extra=2, max_num=20, validate_max=True)


class NoteForm(forms.Form):
    note = forms.CharField(label=_("Note"), widget=forms.Textarea(attrs={"rows": 2}))


class AssessForm(forms.Form):
    factors = forms.MultipleChoiceField(
        label=_("Risk factors"), required=False, widget=forms.CheckboxSelectMultiple
    )
    note = forms.CharField(label=_("Assessment"), widget=forms.Textarea(attrs={"rows": 2}))
    lower_reason = forms.CharField(label=_("Reason, if the level should go down"), required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["factors"].choices = _factor_choices()


class RaiseLevelForm(forms.Form):
    level = forms.ChoiceField(label=_("Risk level"), choices=RiskLevel.choices)
    reason = forms.CharField(label=_("Reason"))


class RouteForm(forms.Form):
    target = forms.ChoiceField(label=_("Route to"), choices=RouteTarget.choices)
    unit = forms.CharField(label=_("Receiving unit"), required=False, max_length=128)
    room = forms.TypedChoiceField(
        label=_("Mediation room (empty: the nearest)"),
        required=False,
        coerce=int,
        empty_value=None,
    )
    note = forms.CharField(label=_("Note"), required=False)

    def __init__(self, *args, rooms=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["room"].choices = [("", "—")] + [(r.pk, r.name) for r in rooms]


class CloseForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Outcome"), choices=DisputeOutcome.choices)
    note = forms.CharField(label=_("How it ended"), widget=forms.Textarea(attrs={"rows": 2}))


class EscalationForm(forms.Form):
    incident = forms.CharField(label=_("Criminal incident (tracking number)"), max_length=16)
    note = forms.CharField(label=_("Note"), required=False)


ACTION_FORMS: dict[str, type[forms.Form]] = {
    "mediate_on_spot": NoteForm,
    "assess": AssessForm,
    "raise_level": RaiseLevelForm,
    "route": RouteForm,
    "follow_up": NoteForm,
    "close": CloseForm,
    "visit": NoteForm,
    "link_escalation": EscalationForm,
}


class ReportForm(forms.Form):
    region = forms.ChoiceField(label=_("Community"))
    month = forms.DateField(
        label=_("Month"),
        widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"),
        input_formats=["%Y-%m", "%Y-%m-%d"],
    )
    zero_report = forms.BooleanField(label=_("Zero report: nothing found"), required=False)
    note = forms.CharField(label=_("Note"), required=False)

    def __init__(self, *args, user: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        communities = selectors.communities_visible(user).order_by("code")
        self.fields["region"].choices = [(str(r.pk), r.name) for r in communities]
        self.fields["month"].initial = selectors.previous_month(timezone.localdate())


class PeriodForm(forms.Form):
    region = forms.CharField(required=False, max_length=12)
    month = forms.DateField(required=False, input_formats=["%Y-%m", "%Y-%m-%d"])
