"""Page forms: they check the shape of the input; the services check the rules."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.models import RoleCode, User
from grids.models import Region
from incidents.models import Category
from mediation.models import (
    AgreementSignature,
    CaseParty,
    CaseSource,
    MediationAgreement,
    MediationRoom,
    Performance,
    RoomLevel,
    RoomType,
)
from mediation.selectors import STAT_GROUPS


def dispute_categories():
    return Category.objects.filter(is_dispute=True, active=True).order_by("code")


class CategoryChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.code} {obj.display_name}"


class CategoryMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.code} {obj.display_name}"


class RegionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name} ({obj.code})"


class RoomForm(forms.Form):
    name = forms.CharField(label=_("name"), max_length=100)
    room_type = forms.ChoiceField(label=_("type"), choices=RoomType.choices)
    level = forms.ChoiceField(label=_("level"), choices=RoomLevel.choices)
    region = RegionChoiceField(
        label=_("region served"),
        queryset=Region.objects.filter(level__in=["city", "district", "street", "community"]),
    )
    categories = CategoryMultipleChoiceField(
        label=_("dispute categories taken"),
        queryset=Category.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every kind of dispute."),
    )
    address = forms.CharField(label=_("address"), max_length=255, required=False)
    lat = forms.FloatField(label=_("latitude"), required=False, min_value=-90, max_value=90)
    lng = forms.FloatField(label=_("longitude"), required=False, min_value=-180, max_value=180)
    opening_hours = forms.CharField(label=_("opening hours"), max_length=100, required=False)
    phone = forms.CharField(label=_("contact phone"), max_length=20, required=False)
    capacity_per_day = forms.IntegerField(
        label=_("capacity (sessions a day)"), min_value=0, max_value=100, initial=4
    )
    gold_rated = forms.BooleanField(label=_("gold-rated room"), required=False)
    active = forms.BooleanField(
        label=pgettext_lazy("mediation", "active"), required=False, initial=True
    )
    description = forms.CharField(
        label=pgettext_lazy("mediation room", "description"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["categories"].queryset = dispute_categories()

    @classmethod
    def initial_for(cls, room: MediationRoom) -> dict:
        return {
            "name": room.name,
            "room_type": room.room_type,
            "level": room.level,
            "region": room.region_id,
            "categories": list(room.categories.values_list("pk", flat=True)),
            "address": room.address,
            "lat": room.lat,
            "lng": room.lng,
            "opening_hours": room.opening_hours,
            "phone": room.phone,
            "capacity_per_day": room.capacity_per_day,
            "gold_rated": room.gold_rated,
            "active": room.active,
            "description": room.description,
        }


class RoomImportForm(forms.Form):
    file = forms.FileField(label=_("CSV file"))


class RoomMediatorForm(forms.Form):
    user = forms.ModelChoiceField(label=_("mediator"), queryset=User.objects.none())
    title = forms.CharField(
        label=pgettext_lazy("mediation", "title"), max_length=64, required=False
    )
    speciality = forms.CharField(label=_("speciality"), max_length=128, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = User.objects.filter(
            roles__code=RoleCode.MEDIATOR, is_active=True
        ).order_by("username")


class PartyForm(forms.Form):
    role = forms.ChoiceField(
        label=pgettext_lazy("mediation", "role"), choices=CaseParty.Role.choices
    )
    name = forms.CharField(label=pgettext_lazy("person", "name"), max_length=64, required=False)
    id_number = forms.CharField(label=_("ID number"), max_length=18, required=False)
    phone = forms.CharField(label=_("phone"), max_length=11, required=False)
    address = forms.CharField(label=_("address"), max_length=255, required=False)


PartyFormSet = forms.formset_factory(PartyForm, extra=0, max_num=10, absolute_max=10)


def party_formset(data=None, *, initial=None) -> forms.BaseFormSet:
    initial = initial or [
        {"role": CaseParty.Role.APPLICANT},
        {"role": CaseParty.Role.RESPONDENT},
        {"role": CaseParty.Role.RESPONDENT},
    ]
    return PartyFormSet(data, initial=initial, prefix="parties")


def parties_from(formset) -> list[dict]:
    return [form.cleaned_data for form in formset.forms if form.cleaned_data]


class ApplyForm(forms.Form):
    room = forms.ModelChoiceField(label=_("mediation room"), queryset=MediationRoom.objects.none())
    category = CategoryChoiceField(label=_("dispute category"), queryset=Category.objects.none())
    facts = forms.CharField(label=_("facts"), widget=forms.Textarea(attrs={"rows": 4}))
    requests = forms.CharField(
        label=_("requests"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["room"].queryset = MediationRoom.objects.filter(active=True)
        self.fields["category"].queryset = dispute_categories()


class RegisterForm(forms.Form):
    room = forms.ModelChoiceField(label=_("mediation room"), queryset=MediationRoom.objects.none())
    source = forms.ChoiceField(
        label=_("source"),
        choices=[
            (CaseSource.WALK_IN, CaseSource.WALK_IN.label),
            (CaseSource.COURT, CaseSource.COURT.label),
        ],
    )
    category = CategoryChoiceField(
        label=_("dispute category"), queryset=Category.objects.none(), required=False
    )
    facts = forms.CharField(label=_("facts"), widget=forms.Textarea(attrs={"rows": 4}))
    requests = forms.CharField(
        label=_("requests"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    court_reference = forms.CharField(label=_("court reference"), max_length=64, required=False)

    def __init__(self, *args, rooms=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["room"].queryset = rooms if rooms is not None else MediationRoom.objects.none()
        self.fields["category"].queryset = dispute_categories()


class ReferForm(forms.Form):
    room = forms.ChoiceField(label=_("mediation room"), widget=forms.RadioSelect)
    facts = forms.CharField(label=_("facts"), widget=forms.Textarea(attrs={"rows": 4}))
    requests = forms.CharField(
        label=_("requests"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, proposals=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["room"].choices = [(str(p.room.pk), p.room.name) for p in proposals]


class MediatorChoiceForm(forms.Form):
    mediator = forms.ModelChoiceField(
        label=_("mediator"), queryset=User.objects.none(), required=False
    )

    def __init__(self, *args, room=None, **kwargs):
        super().__init__(*args, **kwargs)
        if room is not None:
            self.fields["mediator"].queryset = User.objects.filter(
                mediator_memberships__room=room, mediator_memberships__active=True
            )


class AssignForm(MediatorChoiceForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["mediator"].required = True


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("reason"), widget=forms.Textarea(attrs={"rows": 2}))


class ScheduleForm(forms.Form):
    starts_at = forms.DateTimeField(
        label=_("date and time"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
    )
    duration_minutes = forms.IntegerField(
        label=_("duration (minutes)"), min_value=15, max_value=480, initial=60
    )
    place = forms.CharField(label=_("place"), max_length=255, required=False)
    mediator = forms.ModelChoiceField(
        label=_("mediator"), queryset=User.objects.none(), required=False
    )

    def __init__(self, *args, room=None, **kwargs):
        super().__init__(*args, **kwargs)
        if room is not None:
            self.fields["mediator"].queryset = User.objects.filter(
                mediator_memberships__room=room, mediator_memberships__active=True
            )

    def clean_starts_at(self):
        value = self.cleaned_data["starts_at"]
        if timezone.is_naive(value):
            value = timezone.make_aware(value)
        return value


class MinutesForm(forms.Form):
    minutes = forms.CharField(label=_("minutes"), widget=forms.Textarea(attrs={"rows": 5}))
    attendees = forms.CharField(label=_("attendees"), max_length=255, required=False)


class AgreementForm(forms.Form):
    form = forms.ChoiceField(
        label=_("form"),
        choices=MediationAgreement.Form.choices,
        initial=MediationAgreement.Form.WRITTEN,
        widget=forms.RadioSelect,
    )
    facts = forms.CharField(label=_("main facts"), widget=forms.Textarea(attrs={"rows": 3}))
    disputed_matters = forms.CharField(
        label=_("disputed matters"), widget=forms.Textarea(attrs={"rows": 2})
    )
    responsibilities = forms.CharField(
        label=_("responsibilities of each party"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    terms = forms.CharField(label=_("what was agreed"), widget=forms.Textarea(attrs={"rows": 3}))
    performance_method = forms.CharField(
        label=_("how it is performed"), widget=forms.Textarea(attrs={"rows": 2})
    )
    performance_deadline = forms.DateField(
        label=_("performed by"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


def _past_moment_field(label) -> forms.DateTimeField:
    """An optional date and time on paper (a signature, the seal); empty means now."""
    return forms.DateTimeField(
        label=label,
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"],
        help_text=_("Empty: now."),
    )


def _aware(value):
    if value is not None and timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


class SignForm(forms.Form):
    signer = forms.ChoiceField(label=_("who signs"))
    method = forms.ChoiceField(
        label=_("method"),
        choices=AgreementSignature.Method.choices,
        initial=AgreementSignature.Method.SIGNATURE,
    )
    signed_at = _past_moment_field(_("signed on"))

    def __init__(self, *args, signers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["signer"].choices = list(signers)

    def clean_signed_at(self):
        return _aware(self.cleaned_data.get("signed_at"))


class SealForm(forms.Form):
    """The committee's seal on the written agreement (人民调解法 Art. 29)."""

    sealed_at = _past_moment_field(_("seal applied on"))

    def clean_sealed_at(self):
        return _aware(self.cleaned_data.get("sealed_at"))


class ExtendForm(forms.Form):
    # The cap is MediationPolicy.max_extension_days, checked by services.case_extend.
    days = forms.IntegerField(label=_("days"), min_value=1, initial=15)
    parties_consent = forms.BooleanField(label=_("all parties consent"), required=False)
    note = forms.CharField(
        label=_("how the parties consented"), widget=forms.Textarea(attrs={"rows": 2})
    )


class RefuseForm(forms.Form):
    party = forms.ChoiceField(label=_("party who refuses"))
    reason = forms.CharField(label=_("reason"), widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, parties=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["party"].choices = [(str(p.pk), str(p)) for p in parties]


class ConfirmationForm(forms.Form):
    court = forms.CharField(label=_("court"), max_length=100)
    note = forms.CharField(label=_("note"), required=False)


class FollowUpForm(forms.Form):
    performance = forms.ChoiceField(label=_("performance"), choices=Performance.choices)
    result = forms.CharField(label=_("result"), widget=forms.Textarea(attrs={"rows": 3}))


class NoteForm(forms.Form):
    note = forms.CharField(label=_("note"), required=False)


class StatsForm(forms.Form):
    group_by = forms.ChoiceField(
        label=_("group by"),
        required=False,
        choices=list(
            zip(
                STAT_GROUPS,
                [_("room"), _("room type"), _("level"), _("dispute category")],
                strict=True,
            )
        ),
    )
    concluded_from = forms.DateField(
        label=pgettext_lazy("date range", "from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    concluded_to = forms.DateField(
        label=pgettext_lazy("date range", "to"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
