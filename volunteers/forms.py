"""Forms of the volunteers pages: they parse and check the fields; services decide the rest."""

from __future__ import annotations

import json

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from grids.models import Region
from incidents.models import Category
from volunteers.models import DutyPost, TaskLevel, TeamKind


class ApplyForm(forms.Form):
    community = forms.ModelChoiceField(
        label=_("Community served"),
        queryset=Region.objects.filter(level=Region.Level.COMMUNITY),
    )
    real_name = forms.CharField(label=_("Real name"), max_length=64)
    id_number = forms.CharField(
        label=_("ID number (for certificates)"), max_length=18, required=False
    )
    skills = forms.CharField(
        label=_("Skills"), widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=500
    )
    availability = forms.CharField(label=_("Availability"), max_length=200, required=False)


class DeclineForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500)


class PositionForm(forms.Form):
    """A GPS fix from the phone (filled by the page's script; by hand as a fallback)."""

    lat = forms.FloatField(label=_("Latitude"), min_value=-90, max_value=90)
    lng = forms.FloatField(label=_("Longitude"), min_value=-180, max_value=180)


class HazardForm(PositionForm):
    category = forms.ModelChoiceField(
        label=_("Category"),
        queryset=Category.objects.filter(active=True, parent__isnull=False, internal_only=False),
    )
    description = forms.CharField(
        label=_("What did you find?"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )
    photos = forms.FileField(label=_("Photo"), required=False)


class TaskForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=100)
    description = forms.CharField(
        label=_("Description"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    level = forms.ChoiceField(label=_("Level"), choices=TaskLevel.choices)
    region = forms.ModelChoiceField(label=_("Region"), queryset=Region.objects.none())
    cells = forms.CharField(label=_("Grid cell codes (comma separated)"), required=False)
    route = forms.CharField(
        label=_("Route (drawn on the map)"), required=False, widget=forms.HiddenInput
    )
    starts_at = forms.DateTimeField(
        label=_("Starts at"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    ends_at = forms.DateTimeField(
        label=_("Ends at"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    places = forms.IntegerField(
        label=pgettext_lazy("volunteer task", "Places"), min_value=1, max_value=10000
    )
    required_checkins = forms.IntegerField(
        label=_("Check-ins required (in and out included)"), min_value=2, max_value=20, initial=2
    )

    def __init__(self, *args, regions=None, **kwargs):
        super().__init__(*args, **kwargs)
        if regions is not None:
            self.fields["region"].queryset = regions

    def clean_route(self):
        raw = (self.cleaned_data.get("route") or "").strip()
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            raise forms.ValidationError(_("Draw the route as a line on the map.")) from None


class PostForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=64)
    kind = forms.ChoiceField(label=_("Kind"), choices=DutyPost.Kind.choices)
    region = forms.ModelChoiceField(label=_("Region"), queryset=Region.objects.none())
    lat = forms.FloatField(label=_("Latitude"))
    lng = forms.FloatField(label=_("Longitude"))
    shift_start = forms.TimeField(
        label=_("Shift starts"), widget=forms.TimeInput(attrs={"type": "time"})
    )
    shift_end = forms.TimeField(
        label=_("Shift ends"), widget=forms.TimeInput(attrs={"type": "time"})
    )
    places = forms.IntegerField(label=_("Places per shift"), min_value=1, max_value=100)

    def __init__(self, *args, regions=None, **kwargs):
        super().__init__(*args, **kwargs)
        if regions is not None:
            self.fields["region"].queryset = regions


class TeamForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=64)
    kind = forms.ModelChoiceField(label=_("Kind"), queryset=TeamKind.objects.filter(active=True))
    region = forms.ModelChoiceField(label=_("Region"), queryset=Region.objects.none())
    cells = forms.CharField(label=_("Grid cell codes (comma separated)"), required=False)
    on_duty = forms.BooleanField(label=_("On duty"), required=False, initial=True)

    def __init__(self, *args, regions=None, **kwargs):
        super().__init__(*args, **kwargs)
        if regions is not None:
            self.fields["region"].queryset = regions


class MemberForm(forms.Form):
    username = forms.CharField(label=_("Username or phone of the member"), max_length=150)


class PairingForm(forms.Form):
    police_officer = forms.CharField(
        label=_("Police officer (username; empty: none)"), max_length=150, required=False
    )


class CorrectForm(forms.Form):
    hours = forms.DecimalField(label=_("Hours"), min_value=0, max_value=24, decimal_places=2)
    reason = forms.CharField(label=_("Reason"), max_length=200)


class RedeemForm(forms.Form):
    points = forms.DecimalField(label=_("Points"), min_value=0, decimal_places=1)
    reason = forms.CharField(label=_("What for"), max_length=200)
