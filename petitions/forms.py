"""Page forms: they validate input and hand it to a service; the service decides."""

import django_filters
from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.selectors import regions_visible
from grids.models import Region
from petitions.models import (
    OFFICER_CHANNELS,
    DeliveryManner,
    OpinionKind,
    Outcome,
    Petition,
    PetitionCategory,
    PetitionChannel,
    PetitionKind,
    PetitionLevel,
    PetitionState,
    Satisfaction,
)
from petitions.services import OpinionInput, PetitionerInput

PETITION_REGION_LEVELS = ["city", "district", "street", "community"]


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(item, initial) for item in data if item]
        return [super().clean(data, initial)] if data else []


class RegionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Region) -> str:
        return f"{obj.name} ({obj.get_level_display()})"


class MatterFields(forms.Form):
    """What every petition states (Art. 19)."""

    kind = forms.ChoiceField(label=pgettext_lazy("petition", "Kind"), choices=PetitionKind.choices)
    category = forms.ModelChoiceField(
        label=_("Category"), queryset=PetitionCategory.objects.filter(active=True)
    )
    region = RegionChoiceField(
        label=_("Where the matter arose"),
        queryset=Region.objects.filter(level__in=PETITION_REGION_LEVELS),
    )
    addressed_to = forms.CharField(
        label=_("Addressed to (authority)"), max_length=128, required=False
    )
    matter = forms.CharField(label=_("Matter"), max_length=200)
    request = forms.CharField(label=_("Request"), widget=forms.Textarea(attrs={"rows": 3}))
    facts_and_reasons = forms.CharField(
        label=_("Facts and reasons"), widget=forms.Textarea(attrs={"rows": 5})
    )
    attachments = MultipleFileField(label=_("Attachments"))


class WebPetitionForm(MatterFields):
    """A signed-in resident files online for themself."""

    name = forms.CharField(label=_("Your name"), max_length=64)
    id_number = forms.CharField(label=_("ID number"), max_length=18, required=False)
    phone = forms.CharField(label=_("Mobile phone"), max_length=20, required=False)
    address = forms.CharField(label=_("Address"), max_length=255)

    def petitioner(self) -> PetitionerInput:
        data = self.cleaned_data
        return PetitionerInput(
            name=data["name"],
            id_number=data["id_number"],
            phone=data["phone"],
            address=data["address"],
        )


class IntakeForm(MatterFields):
    """A petition officer registers a letter, call, fax or visit."""

    channel = forms.ChoiceField(
        label=_("Channel"),
        choices=[(c.value, c.label) for c in OFFICER_CHANNELS],
    )
    level = forms.ChoiceField(
        label=_("Level (leave empty to derive it from the region)"),
        choices=[("", "---------"), *PetitionLevel.choices],
        required=False,
    )
    is_joint = forms.BooleanField(label=_("Joint petition"), required=False)
    headcount = forms.IntegerField(label=_("Number of people"), min_value=1, initial=1)
    received_at = forms.DateTimeField(
        label=_("Received at (empty: now)"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        if user is not None:
            self.fields["region"].queryset = regions_visible(user).filter(
                level__in=PETITION_REGION_LEVELS
            )

    def clean_received_at(self):
        value = self.cleaned_data.get("received_at")
        if value and value > timezone.now():
            raise forms.ValidationError(_("The date received cannot be in the future."))
        return value


class PetitionerForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=64)
    id_number = forms.CharField(label=_("ID number"), max_length=18, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=20, required=False)
    address = forms.CharField(label=_("Address"), max_length=255, required=False)
    is_representative = forms.BooleanField(label=_("Representative"), required=False, initial=True)

    def has_changed(self) -> bool:
        # A blank row stays blank even though "representative" is ticked by default.
        return any(
            (self.data.get(self.add_prefix(name)) or "").strip()
            for name in ("name", "id_number", "phone", "address")
        )

    def petitioner(self) -> PetitionerInput:
        data = self.cleaned_data
        return PetitionerInput(
            name=data["name"],
            id_number=data.get("id_number", ""),
            phone=data.get("phone", ""),
            address=data.get("address", ""),
            is_representative=data.get("is_representative", False),
        )


PetitionerFormSet = forms.formset_factory(
    PetitionerForm, extra=3, min_num=1, validate_min=True, max_num=50
)


# --- Action forms --------------------------------------------------------------------------


class AcceptForm(forms.Form):
    handling_unit = forms.CharField(label=_("Handling unit"), max_length=128, required=False)
    note = forms.CharField(
        label=_("Note to the petitioner"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class TransferForm(forms.Form):
    to_region = RegionChoiceField(
        label=_("Region of the receiving unit"),
        queryset=Region.objects.filter(level__in=PETITION_REGION_LEVELS),
    )
    unit_name = forms.CharField(label=_("Receiving unit"), max_length=128)
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class DeclineForm(forms.Form):
    reason = forms.CharField(
        label=_("Why, and where the petitioner should go"), widget=forms.Textarea(attrs={"rows": 3})
    )
    legal_basis = forms.CharField(label=_("Legal basis"), max_length=255, required=False)


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}))


class NoteForm(forms.Form):
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class EmptyForm(forms.Form):
    pass


class ExtensionRequestForm(forms.Form):
    days = forms.IntegerField(label=_("Days (at most 30)"), min_value=1, max_value=30)
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}))


class ExtensionDecideForm(forms.Form):
    approve = forms.TypedChoiceField(
        label=_("Decision"),
        choices=[("yes", _("approve")), ("no", _("refuse"))],
        coerce=lambda value: value == "yes",
    )
    note = forms.CharField(label=_("Note"), required=False)


class OpinionForm(forms.Form):
    """The written opinion (Art. 32)."""

    unit = forms.CharField(label=_("Issuing unit"), max_length=128, required=False)
    request = forms.CharField(label=_("Request"), widget=forms.Textarea(attrs={"rows": 2}))
    facts_and_reasons = forms.CharField(
        label=_("Facts and reasons"), widget=forms.Textarea(attrs={"rows": 3})
    )
    decision = forms.CharField(label=_("Decision"), widget=forms.Textarea(attrs={"rows": 3}))
    legal_basis = forms.CharField(label=_("Legal basis"), widget=forms.Textarea(attrs={"rows": 2}))
    outcome = forms.ChoiceField(
        label=pgettext_lazy("petition opinion", "Outcome"), choices=Outcome.choices
    )
    delivery_manner = forms.ChoiceField(
        label=_("Delivered to the petitioner"),
        choices=[
            ("", _("online if the petitioner has an account, else by post")),
            *DeliveryManner.choices,
        ],
        required=False,
    )

    def opinion(self) -> OpinionInput:
        return OpinionInput(**self.cleaned_data)


class DeliveryForm(forms.Form):
    """The day the petitioner received a written opinion sent by post or other means."""

    kind = forms.ChoiceField(label=_("Written opinion"), choices=OpinionKind.choices)
    manner = forms.ChoiceField(
        label=_("Delivered by"),
        choices=[c for c in DeliveryManner.choices if c[0] != DeliveryManner.ONLINE],
    )
    delivered_on = forms.DateField(
        label=_("Received by the petitioner on"), widget=forms.DateInput(attrs={"type": "date"})
    )


class MergeDecisionForm(forms.Form):
    """Confirm or dismiss one possible repeat (the officer decides)."""

    suggestion = forms.IntegerField(widget=forms.HiddenInput)
    note = forms.CharField(label=_("Note"), required=False)


class RateForm(forms.Form):
    satisfaction = forms.ChoiceField(
        label=_("How satisfied are you?"), choices=Satisfaction.choices, widget=forms.RadioSelect
    )
    comment = forms.CharField(
        label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class HearingForm(forms.Form):
    days = forms.IntegerField(label=_("Hearing days"), min_value=1, max_value=365)
    note = forms.CharField(label=_("Note"), required=False)


class MediationReferralForm(forms.Form):
    """访调对接: the room, and the other party of the dispute (a case needs both sides)."""

    room = forms.ModelChoiceField(label=_("Mediation room"), queryset=None, required=False)
    room_name = forms.CharField(
        label=_("Mediation room (if not listed)"), max_length=128, required=False
    )
    respondent_name = forms.CharField(
        label=_("Other party: name or organisation"), max_length=64, required=False
    )
    respondent_phone = forms.CharField(
        label=_("Other party: mobile phone"), max_length=20, required=False
    )
    respondent_address = forms.CharField(
        label=_("Other party: address"), max_length=255, required=False
    )
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, **kwargs):
        from petitions.services import mediation_rooms

        super().__init__(*args, **kwargs)
        rooms = mediation_rooms()
        if rooms is None:
            del self.fields["room"]
        else:
            self.fields["room"].queryset = rooms

    def clean(self):
        data = super().clean()
        if data.get("room") and not (data.get("respondent_name") or "").strip():
            self.add_error(
                "respondent_name", _("A mediation case needs the other party of the dispute.")
            )
        if not data.get("room") and not (data.get("room_name") or "").strip():
            self.add_error("room", _("Choose a mediation room."))
        return data


class IncidentForm(forms.Form):
    category = forms.ModelChoiceField(label=_("Incident category"), queryset=None)
    address = forms.CharField(label=_("Address"), max_length=255, required=False)
    lat = forms.FloatField(label=_("Latitude"), required=False, min_value=-90, max_value=90)
    lng = forms.FloatField(label=_("Longitude"), required=False, min_value=-180, max_value=180)
    note = forms.CharField(label=_("Note"), required=False)

    def __init__(self, *args, **kwargs):
        from incidents.models import Category

        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = Category.objects.filter(
            active=True, parent__isnull=False
        )


class TrackForm(forms.Form):
    tracking_number = forms.CharField(
        label=pgettext_lazy("petition", "Tracking number"), max_length=16
    )
    phone_last4 = forms.CharField(
        label=_("Last 4 digits of your phone"), max_length=4, min_length=4, required=False
    )


class AnalysisPeriodForm(forms.Form):
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


class PetitionFilter(django_filters.FilterSet):
    """Officers' list filters (django-filter)."""

    q = django_filters.CharFilter(method="filter_q", label=_("Search"))
    state = django_filters.ChoiceFilter(choices=PetitionState.choices, label=_("State"))
    kind = django_filters.ChoiceFilter(
        choices=PetitionKind.choices, label=pgettext_lazy("petition", "Kind")
    )
    channel = django_filters.ChoiceFilter(choices=PetitionChannel.choices, label=_("Channel"))
    level = django_filters.ChoiceFilter(choices=PetitionLevel.choices, label=_("Level"))
    category = django_filters.ModelChoiceFilter(
        queryset=PetitionCategory.objects.all(), label=_("Category")
    )
    overdue = django_filters.BooleanFilter(label=_("Overdue"))
    backlog = django_filters.BooleanFilter(label=_("Backlog"))
    received_from = django_filters.DateFilter(
        field_name="received_at",
        lookup_expr="date__gte",
        label=_("Received from"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    received_to = django_filters.DateFilter(
        field_name="received_at",
        lookup_expr="date__lte",
        label=_("Received until"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    class Meta:
        model = Petition
        fields = ["q", "state", "kind", "channel", "level", "category", "overdue", "backlog"]

    def filter_q(self, queryset, name, value):
        value = (value or "").strip()
        if not value:
            return queryset
        from django.db.models import Q

        return queryset.filter(
            Q(tracking_number__icontains=value)
            | Q(matter__icontains=value)
            | Q(petitioners__name=value)
        ).distinct()

    @property
    def qs(self):
        qs = super().qs
        # Merged submissions are listed only when asked for.
        if not (self.data or {}).get("state"):
            qs = qs.exclude(state=PetitionState.MERGED)
        return qs
