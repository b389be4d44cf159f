"""Forms of the patrol log."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from incidents.forms._common import TEXT_MAX

# --- patrol log -------------------------------------------------------------------------------


class PatrolStartForm(forms.Form):
    notes = forms.CharField(
        label=_("Notes"),
        required=False,
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class PatrolPointForm(forms.Form):
    """One point added by hand (the page fills it from the phone's position or the map)."""

    lat = forms.FloatField(label=_("Latitude"), min_value=-90, max_value=90)
    lng = forms.FloatField(label=_("Longitude"), min_value=-180, max_value=180)


class PatrolEndForm(forms.Form):
    notes = forms.CharField(
        label=_("Notes"),
        required=False,
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What you saw on the way (hazards, matters settled in talks ...)."),
    )
