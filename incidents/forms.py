"""Forms of the incident pages. They check the shape of the input (required fields, lengths,
numbers); the services check everything else (photos by content, the place, the state)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import RoleCode, User, mainland_mobile_validator
from incidents import page_selectors
from incidents.models import Category, Channel, HandlingLevel, Incident
from incidents.photos import MAX_PHOTOS

TEXT_MAX = 2000
DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


def _photos_help_text() -> str:
    return gettext("Up to %(n)s photos (JPEG, PNG, WebP or HEIC).") % {"n": MAX_PHOTOS}


_photos_help = lazy(_photos_help_text, str)


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Several photos from one input (a phone opens its camera: capture="environment")."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault(
            "widget",
            MultipleFileInput(attrs={"accept": "image/*", "capture": "environment"}),
        )
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", _("Photos"))
        kwargs.setdefault("help_text", _photos_help())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list:
        single = super().clean
        files = [item for item in (data if isinstance(data, list | tuple) else [data]) if item]
        if not files:
            if self.required:
                raise forms.ValidationError(self.error_messages["required"], code="required")
            return []
        if len(files) > MAX_PHOTOS:
            raise forms.ValidationError(
                _("At most %(n)s photos.") % {"n": MAX_PHOTOS}, code="too_many"
            )
        return [single(item, initial) for item in files]


def category_choices(user: User | None, *, blank: str) -> list:
    """Subclasses grouped under their large class (an <optgroup> each)."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for category in page_selectors.report_categories(user):
        parent = category.parent
        groups.setdefault(parent.display_name if parent else "", []).append(
            (category.code, category.display_name)
        )
    return [("", blank), *groups.items()]


class CategoryField(forms.ChoiceField):
    """A category code in the form; the Category in cleaned_data."""

    def clean(self, value: Any) -> Category | None:
        code = super().clean(value)
        if not code:
            return None
        category = Category.objects.filter(code=code, active=True, parent__isnull=False).first()
        if category is None:
            raise forms.ValidationError(self.error_messages["invalid_choice"] % {"value": code})
        return category


class PortalForm(forms.Form):
    """Every form of these pages: an error row CSS class, and the page's user and incident."""

    error_css_class = "has-error"
    required_css_class = "required"

    def __init__(
        self,
        *args: Any,
        user: User | None = None,
        incident: Incident | None = None,
        **kwargs: Any,
    ) -> None:
        self.user = user
        self.incident = incident
        super().__init__(*args, **kwargs)

    def add_service_errors(self, extra: dict, message: str, *, aliases: dict | None = None) -> None:
        """Place a service's field errors (ValidationFailed.extra) on the form."""
        aliases = aliases or {}
        placed = False
        for name, messages in (extra or {}).items():
            field = aliases.get(name, name)
            for text in messages:
                self.add_error(field if field in self.fields else None, str(text))
                placed = True
        if not placed:
            self.add_error(None, message)

    def move_data(self) -> dict:
        """The cleaned input as incidents.moves.PERFORM reads it (the API's names)."""
        return self.cleaned_data


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
