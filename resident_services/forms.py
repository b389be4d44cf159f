"""Page forms: they validate input and hand it to a service; the service decides."""

from django import forms
from django.utils.translation import gettext_lazy as _

from grids.models import Region
from resident_services.models import RATING_CHOICES, Weekday


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
        parent = obj.parent.name if obj.parent_id and obj.parent else ""
        return f"{parent} {obj.name}".strip()


class RequestForm(forms.Form):
    community = RegionChoiceField(label=_("Community"), queryset=Region.objects.none())
    details = forms.CharField(
        label=_("What you need"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    attachments = MultipleFileField(label=_("Materials"))

    def __init__(self, *args, communities=None, **kwargs):
        super().__init__(*args, **kwargs)
        if communities is not None:
            self.fields["community"].queryset = communities.select_related("parent")


class SupplyForm(forms.Form):
    attachments = MultipleFileField(label=_("Materials"))
    note = forms.CharField(label=_("Note"), required=False, max_length=1000)


class AcceptForm(forms.Form):
    note = forms.CharField(label=_("Note"), required=False, max_length=1000)


class AskMaterialsForm(forms.Form):
    missing = forms.CharField(
        label=_("Missing materials"), max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )


class CompleteForm(forms.Form):
    result = forms.CharField(
        label=_("Result"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )


class DeclineForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )


class RateForm(forms.Form):
    rating = forms.TypedChoiceField(
        label=_("Rating"), choices=RATING_CHOICES, coerce=int, widget=forms.RadioSelect
    )
    comment = forms.CharField(label=_("Comment"), required=False, max_length=1000)


class SlotSearchForm(forms.Form):
    community = RegionChoiceField(
        label=_("Community"), queryset=Region.objects.none(), required=False
    )

    def __init__(self, *args, communities=None, **kwargs):
        super().__init__(*args, **kwargs)
        if communities is not None:
            self.fields["community"].queryset = communities.select_related("parent")


class BookForm(forms.Form):
    hours = forms.IntegerField(widget=forms.HiddenInput)
    starts_at = forms.DateTimeField(widget=forms.HiddenInput)
    topic = forms.CharField(label=_("Topic"), required=False, max_length=200)


class HoursForm(forms.Form):
    community = RegionChoiceField(label=_("Community"), queryset=Region.objects.none())
    weekday = forms.TypedChoiceField(label=_("Weekday"), choices=Weekday.choices, coerce=int)
    start = forms.TimeField(label=_("From"), widget=forms.TimeInput(attrs={"type": "time"}))
    end = forms.TimeField(label=_("Until"), widget=forms.TimeInput(attrs={"type": "time"}))
    slot_minutes = forms.IntegerField(
        label=_("Minutes per slot"), initial=30, min_value=10, max_value=240
    )
    place = forms.CharField(label=_("Place"), required=False, max_length=128)

    def __init__(self, *args, communities=None, **kwargs):
        super().__init__(*args, **kwargs)
        if communities is not None:
            self.fields["community"].queryset = communities.select_related("parent")


class PeriodForm(forms.Form):
    region = forms.CharField(required=False, max_length=12)
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
