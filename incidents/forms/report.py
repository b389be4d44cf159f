"""Forms of reporting, 随手办, tracking and rating."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import RoleCode, User, mainland_mobile_validator
from incidents.forms._common import (
    TEXT_MAX,
    CategoryField,
    PhotosField,
    PortalForm,
    category_choices,
)
from incidents.models import Channel

# --- reporting --------------------------------------------------------------------------------


def report_channels(user: User | None) -> list[tuple[str, str]]:
    """The channels a signed-in user may file on (the first is the default)."""
    if user is None or not user.is_authenticated:
        return [(Channel.RESIDENT_WEB, Channel.RESIDENT_WEB.label)]
    channels = []
    if user.has_role(RoleCode.GRID_WORKER):
        channels.append((Channel.PATROL, Channel.PATROL.label))
    channels.append((Channel.RESIDENT_WEB, Channel.RESIDENT_WEB.label))
    if user.is_portal_admin or user.has_role(RoleCode.DISPATCHER):
        channels += [
            (Channel.HOTLINE_12345, Channel.HOTLINE_12345.label),
            (Channel.DIVERSION_110, Channel.DIVERSION_110.label),
        ]
    return channels


class LocationMixin(forms.Form):
    lat = forms.FloatField(
        required=False, min_value=-90, max_value=90, widget=forms.HiddenInput, label=_("Latitude")
    )
    lng = forms.FloatField(
        required=False,
        min_value=-180,
        max_value=180,
        widget=forms.HiddenInput,
        label=_("Longitude"),
    )
    address = forms.CharField(
        required=False,
        max_length=255,
        label=_("Address or landmark"),
        widget=forms.TextInput(
            attrs={"placeholder": _("e.g. in front of No. 12, Xinhua West Road")}
        ),
    )
    use_photo_location = forms.BooleanField(
        required=False,
        label=_("Use the location stored in the photo when no pin is set"),
    )


def _check_place(form: forms.Form, data: dict) -> None:
    """The place is needed; show it with the other missing fields (the service says the same
    when the form is otherwise fine)."""
    has_pin = data.get("lat") is not None and data.get("lng") is not None
    from_photo = data.get("use_photo_location") and data.get("photos")
    if not has_pin and not from_photo and "lat" not in form.errors:
        form.add_error("lat", _("Mark the place on the map (or allow the photo's location)."))


class ReportForm(PortalForm, LocationMixin):
    """A report: signed in (a resident, a grid worker on patrol, a dispatcher typing a call) or
    anonymous with a mobile number (to track and rate it)."""

    category = CategoryField(label=_("Category"))
    description = forms.CharField(
        max_length=TEXT_MAX,
        label=_("What is the matter?"),
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    photos = PhotosField()
    channel = forms.ChoiceField(label=_("Channel"), required=False)
    reporter_name = forms.CharField(required=False, max_length=64, label=_("Your name"))
    reporter_phone = forms.CharField(
        required=False,
        max_length=11,
        label=_("Mobile number"),
        validators=[mainland_mobile_validator],
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "tel"}),
    )
    # A field people never see: bots fill it in.
    website = forms.CharField(required=False, label=_("Leave this empty"))

    field_order = [
        "category",
        "description",
        "photos",
        "lat",
        "lng",
        "address",
        "use_photo_location",
        "channel",
        "reporter_name",
        "reporter_phone",
        "website",
    ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        user = self.user if self.user is not None and self.user.is_authenticated else None
        self.anonymous = user is None
        self.fields["category"].choices = category_choices(user, blank=_("Choose a category"))
        channels = report_channels(user)
        self.fields["channel"].choices = channels
        self.fields["channel"].initial = channels[0][0]
        if len(channels) == 1:
            del self.fields["channel"]
        if self.anonymous:
            self.fields["reporter_phone"].required = True
            self.fields["reporter_phone"].help_text = _(
                "Needed to track the report and rate the result; shown to staff only."
            )
        else:
            del self.fields["website"]
            if not self.calls_allowed:
                del self.fields["reporter_name"]
                del self.fields["reporter_phone"]
            else:
                self.fields["reporter_phone"].help_text = _(
                    "For a hotline or 110 call: the caller's name and number."
                )

    @property
    def calls_allowed(self) -> bool:
        return "channel" in self.fields and any(
            code in (Channel.HOTLINE_12345, Channel.DIVERSION_110)
            for code, _label in self.fields["channel"].choices
        )

    def clean(self) -> dict:
        data = super().clean()
        _check_place(self, data)
        if data.get("website"):
            # Shown as a form error: a person whose browser filled the trap can still tell.
            self.add_error(None, _("This report looks automated and was not sent."))
        channel = data.get("channel") or report_channels(self.user)[0][0]
        data["channel"] = channel
        if channel in (Channel.HOTLINE_12345, Channel.DIVERSION_110) and not data.get(
            "reporter_phone"
        ):
            self.add_error("reporter_phone", _("Enter the caller's mobile number."))
        return data

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "category": data["category"],
            "description": data["description"],
            "channel": data["channel"],
            "lat": data.get("lat"),
            "lng": data.get("lng"),
            "address": data.get("address", ""),
            "reporter_name": data.get("reporter_name", "") or "",
            "reporter_phone": data.get("reporter_phone", "") or "",
            "photos": data.get("photos") or [],
            "use_photo_location": data.get("use_photo_location", False),
        }


class FixOnSpotNewForm(PortalForm, LocationMixin):
    """随手办: a grid worker records a small matter fixed on the spot, with evidence."""

    category = CategoryField(label=_("Category"))
    description = forms.CharField(
        max_length=TEXT_MAX,
        label=_("What was the matter?"),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    result = forms.CharField(
        max_length=TEXT_MAX,
        label=_("What did you do?"),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    photos = PhotosField(required=True, label=_("Evidence photos"))

    field_order = [
        "category",
        "description",
        "result",
        "photos",
        "lat",
        "lng",
        "address",
        "use_photo_location",
    ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = category_choices(self.user, blank=_("Choose a category"))

    def clean(self) -> dict:
        data = super().clean()
        _check_place(self, data)
        return data


# --- tracking and rating ----------------------------------------------------------------------


class TrackForm(PortalForm):
    no = forms.CharField(
        max_length=16,
        label=_("Tracking number"),
        widget=forms.TextInput(attrs={"autocapitalize": "characters", "autocomplete": "off"}),
    )
    code = forms.CharField(
        max_length=16,
        label=_("Access code (查询码)"),
        help_text=_("Shown after your report and sent to you by text message."),
        widget=forms.TextInput(
            attrs={"autocapitalize": "characters", "autocomplete": "off", "spellcheck": "false"}
        ),
    )

    def clean_no(self) -> str:
        return self.cleaned_data["no"].strip().upper()

    def clean_code(self) -> str:
        from incidents.tracking import access_code_normalize

        return access_code_normalize(self.cleaned_data["code"])


class ResendCodeForm(PortalForm):
    """ "Resend my code": the tracking number and the full phone number the report was made
    with."""

    no = forms.CharField(
        max_length=16,
        label=_("Tracking number"),
        widget=forms.TextInput(attrs={"autocapitalize": "characters", "autocomplete": "off"}),
    )
    phone = forms.RegexField(
        regex=r"^\+?[0-9][0-9\- ]{4,19}$",
        label=_("The mobile number you reported with"),
        error_messages={"invalid": _("Enter a valid phone number.")},
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )

    def clean_no(self) -> str:
        return self.cleaned_data["no"].strip().upper()


RATING_CHOICES = [
    (5, _("5 — very satisfied")),
    (4, _("4 — satisfied")),
    (3, _("3 — acceptable")),
    (2, _("2 — dissatisfied (reopens)")),
    (1, _("1 — very dissatisfied (reopens)")),
]


class RateForm(PortalForm):
    """A rating 1–5 (1–2 reopen the case); `reopen` is the "still not solved" shortcut: one
    star and a comment saying what is wrong."""

    rating = forms.TypedChoiceField(
        choices=RATING_CHOICES,
        coerce=int,
        required=False,
        widget=forms.RadioSelect,
        label=_("Your rating"),
    )
    comment = forms.CharField(
        required=False,
        max_length=TEXT_MAX,
        label=_("Comment"),
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    reopen = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def clean(self) -> dict:
        data = super().clean()
        if data.get("reopen"):
            data["rating"] = 1
            if not data.get("comment"):
                self.add_error("comment", _("Tell us what is still wrong."))
        elif not data.get("rating"):
            self.add_error("rating", _("Choose from 1 to 5 stars."))
        return data
