"""Page forms of registry: they check the shape of the input; the services check the rules
(scope, ID numbers, links within the cell)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from grids.models import GridCell
from registry.models import (
    Building,
    Home,
    KeyPersonKind,
    Organisation,
    Person,
    PersonTag,
    Place,
    Visit,
)

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class CellChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name} ({obj.code})"


class RecordForm(forms.ModelForm):
    """The base of the basic-data forms: a cell among the user's writable cells."""

    cell = CellChoiceField(label=_("grid cell"), queryset=GridCell.objects.none())

    def __init__(self, *args, cells=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cell"].queryset = cells if cells is not None else GridCell.objects.none()
        if self.instance.pk:
            self.fields["cell"].initial = self.instance.cell_id
        if len(self.fields["cell"].queryset) == 1 and not self.instance.pk:
            self.fields["cell"].initial = self.fields["cell"].queryset[0].pk
        for name in ("lat", "lng"):
            if name in self.fields:
                self.fields[name].widget.attrs.update({"step": "any", "inputmode": "decimal"})

    def values(self) -> dict:
        return {
            name: value
            for name, value in self.cleaned_data.items()
            if name in self._meta.fields or name == "cell"
        }


class BuildingForm(RecordForm):
    class Meta:
        model = Building
        fields = ["name", "address", "floors", "use", "lat", "lng", "notes"]


class HomeForm(RecordForm):
    class Meta:
        model = Home
        fields = [
            "building",
            "number",
            "occupancy",
            "tenant_count",
            "owner_name",
            "area_m2",
            "notes",
        ]

    owner_phone = forms.CharField(label=_("owner's phone"), max_length=20, required=False)

    def __init__(self, *args, buildings=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["building"].queryset = (
            buildings if buildings is not None else Building.objects.none()
        )
        if self.instance.pk:
            self.fields["owner_phone"].initial = self.instance.owner_phone_value

    def values(self) -> dict:
        data = super().values()
        data["owner_phone_value"] = (self.cleaned_data.get("owner_phone") or "").strip()
        return data


class PersonForm(RecordForm):
    class Meta:
        model = Person
        fields = [
            "name",
            "gender",
            "home",
            "household_number",
            "household_relation",
            "kind",
            "arrival_date",
            "expected_departure_date",
            "notes",
        ]
        widgets = {"arrival_date": DATE, "expected_departure_date": DATE}

    id_number = forms.CharField(label=_("ID number"), max_length=18, required=False)
    phone = forms.CharField(label=_("phone"), max_length=20, required=False)
    tags = forms.ModelMultipleChoiceField(
        label=_("tags"),
        queryset=PersonTag.objects.filter(active=True),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    field_order = ["cell", "name", "id_number", "phone"]

    def __init__(self, *args, homes=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["home"].queryset = homes if homes is not None else Home.objects.none()
        self.fields["id_number"].widget.attrs["autocomplete"] = "off"
        self.fields["phone"].widget.attrs.update({"inputmode": "tel", "autocomplete": "off"})
        if self.instance.pk:
            self.fields["tags"].initial = list(self.instance.tags.values_list("pk", flat=True))

    def values(self) -> dict:
        data = super().values()
        data["id_number"] = self.cleaned_data.get("id_number") or ""
        data["phone"] = self.cleaned_data.get("phone") or ""
        return data


class OrganisationForm(RecordForm):
    class Meta:
        model = Organisation
        fields = [
            "name",
            "kind",
            "credit_code",
            "address",
            "building",
            "lat",
            "lng",
            "contact_name",
            "safety_notes",
            "notes",
        ]

    contact_phone = forms.CharField(label=_("contact phone"), max_length=20, required=False)

    def __init__(self, *args, buildings=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["building"].queryset = (
            buildings if buildings is not None else Building.objects.none()
        )
        if self.instance.pk:
            self.fields["contact_phone"].initial = self.instance.contact_phone_value

    def values(self) -> dict:
        data = super().values()
        data["contact_phone_value"] = (self.cleaned_data.get("contact_phone") or "").strip()
        return data


class PlaceForm(OrganisationForm):
    class Meta:
        model = Place
        fields = [
            "name",
            "kind",
            "is_key",
            "address",
            "building",
            "lat",
            "lng",
            "contact_name",
            "safety_notes",
            "notes",
        ]


FORMS: dict[str, type[RecordForm]] = {
    "building": BuildingForm,
    "home": HomeForm,
    "person": PersonForm,
    "organisation": OrganisationForm,
    "place": PlaceForm,
}


class SearchForm(forms.Form):
    q = forms.CharField(label=_("name or ID number"), max_length=32)


class KeyPersonForm(forms.Form):
    kind = forms.ModelChoiceField(
        label=_("kind of key person"), queryset=KeyPersonKind.objects.filter(active=True)
    )
    risk_level = forms.IntegerField(label=_("risk level"), min_value=0, max_value=9, initial=0)
    responsible_worker = forms.ModelChoiceField(
        label=_("responsible grid worker"), queryset=User.objects.none(), required=False
    )
    notes = forms.CharField(label=_("notes"), widget=forms.Textarea, required=False)

    def __init__(self, *args, workers=None, **kwargs):
        super().__init__(*args, **kwargs)
        if workers is not None:
            self.fields["responsible_worker"].queryset = workers


class VisitForm(forms.Form):
    method = forms.ChoiceField(label=_("method"), choices=Visit.Method.choices)
    visited_at = forms.DateTimeField(
        label=_("visited at"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("Leave empty for now."),
    )
    place = forms.CharField(label=_("place"), max_length=200, required=False)
    observations = forms.CharField(
        label=_("what was seen"), widget=forms.Textarea(attrs={"rows": 4})
    )
    risk_after = forms.IntegerField(label=_("risk level now"), min_value=0, max_value=9)
    lat = forms.FloatField(required=False, min_value=-90, max_value=90, widget=forms.HiddenInput)
    lng = forms.FloatField(required=False, min_value=-180, max_value=180, widget=forms.HiddenInput)
    accuracy_m = forms.FloatField(required=False, min_value=0, widget=forms.HiddenInput)
    photo = forms.ImageField(label=_("photo (optional)"), required=False)


class CloseForm(forms.Form):
    reason = forms.CharField(label=_("reason"), max_length=200)


class ImportForm(forms.Form):
    kind = forms.ChoiceField(label=_("what the file holds"), choices=())
    cell = CellChoiceField(label=_("grid cell"), queryset=GridCell.objects.none())
    file = forms.FileField(label=_("xlsx file"))

    def __init__(self, *args, cells=None, kinds=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cell"].queryset = cells if cells is not None else GridCell.objects.none()
        self.fields["kind"].choices = kinds
