"""Forms of the task pages: they parse and check the shape of the input; the services decide
(scope, state, evidence) and their field messages come back onto the form."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from assignments.evidence import form_fields_parse
from assignments.models import DeliveryOutcome, FieldType
from core.exceptions import ValidationFailed

DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


class TaskIssueForm(forms.Form):
    kind = forms.ModelChoiceField(queryset=None, label=_("Kind"), empty_label=None)
    title = forms.CharField(label=_("Title"), max_length=120)
    instructions = forms.CharField(
        label=_("Instructions"), widget=forms.Textarea(attrs={"rows": 4})
    )
    deadline = forms.DateTimeField(label=_("Deadline"), widget=DATETIME, required=False)
    campaign = forms.ModelChoiceField(
        queryset=None, label=_("Special campaign"), required=False, empty_label="—"
    )
    cells = forms.ModelMultipleChoiceField(
        queryset=None, label=_("Grid cells"), required=False, widget=forms.CheckboxSelectMultiple
    )
    communities = forms.ModelMultipleChoiceField(
        queryset=None,
        label=_("Communities (every grid cell)"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    workers = forms.ModelMultipleChoiceField(
        queryset=None,
        label=_("Named grid workers"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    requires_photo = forms.BooleanField(label=_("Photo required"), required=False)
    requires_signature = forms.BooleanField(label=_("Signature required"), required=False)
    requires_gps = forms.BooleanField(label=_("Location (GPS) required"), required=False)
    form_fields = forms.CharField(
        label=_("Form for the worker"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "One field per line: label | type | options. Types: text, number, choice, yes_no; "
            "a * after the label makes it required. E.g. 家中人数* | number"
        ),
    )
    attachments = MultipleFileField(label=_("Attachments"), required=False)
    # Service of documents (司法送达)
    document_title = forms.CharField(label=_("Document"), max_length=120, required=False)
    case_number = forms.CharField(label=_("Case number"), max_length=64, required=False)
    authority = forms.CharField(label=_("Issuing authority"), max_length=64, required=False)
    addressee_name = forms.CharField(label=_("Addressee"), max_length=64, required=False)
    addressee_phone = forms.CharField(label=_("Addressee's phone"), max_length=11, required=False)
    addressee_id_number = forms.CharField(
        label=_("Addressee's ID number"), max_length=18, required=False
    )
    addressee_address = forms.CharField(
        label=_("Address for service"), max_length=200, required=False
    )

    def __init__(self, *args, kinds, campaigns, cells, communities, workers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].queryset = kinds
        self.fields["campaign"].queryset = campaigns
        self.fields["cells"].queryset = cells
        self.fields["communities"].queryset = communities
        self.fields["workers"].queryset = workers
        self.fields["workers"].label_from_instance = lambda user: str(user)

    def clean_form_fields(self) -> list:
        try:
            return form_fields_parse(self.cleaned_data.get("form_fields") or "")
        except ValidationFailed as exc:
            raise forms.ValidationError(exc.message) from exc


class CampaignForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=120)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    region = forms.ModelChoiceField(queryset=None, label=_("Region"), empty_label=None)
    deadline = forms.DateTimeField(label=_("Deadline"), widget=DATETIME)

    def __init__(self, *args, regions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = regions


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )


class ReassignForm(forms.Form):
    worker = forms.ModelChoiceField(queryset=None, label=_("Grid worker"))

    def __init__(self, *args, workers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["worker"].queryset = workers
        self.fields["worker"].label_from_instance = lambda user: str(user)


class CompleteForm(forms.Form):
    """The result with its evidence. The issuer's own form fields are added per task
    (answer_<name>); the signature arrives as a PNG data URL from the drawing box."""

    note = forms.CharField(
        label=_("Result"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    photo = forms.FileField(
        label=_("Photo"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/*", "capture": "environment"}),
    )
    signature = forms.CharField(required=False, widget=forms.HiddenInput)
    latitude = forms.DecimalField(required=False, widget=forms.HiddenInput)
    longitude = forms.DecimalField(required=False, widget=forms.HiddenInput)
    outcome = forms.ChoiceField(
        label=_("Outcome of service"),
        required=False,
        choices=[("", "—"), *DeliveryOutcome.choices],
    )
    served_at = forms.DateTimeField(label=_("Served at"), required=False, widget=DATETIME)
    served_place = forms.CharField(label=_("Place of service"), max_length=200, required=False)
    not_signed_reason = forms.CharField(
        label=_("Why it was not signed"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, task, **kwargs):
        super().__init__(*args, **kwargs)
        self.task = task
        if not task.kind.is_service_of_documents:
            for name in ("outcome", "served_at", "served_place", "not_signed_reason"):
                del self.fields[name]
        for definition in task.form_fields:
            name = f"answer_{definition['name']}"
            label = definition["label"]
            required = bool(definition.get("required"))
            kind = definition.get("type")
            if kind == FieldType.CHOICE:
                field: forms.Field = forms.ChoiceField(
                    label=label,
                    required=required,
                    choices=[("", "—"), *[(c, c) for c in definition.get("choices", [])]],
                )
            elif kind == FieldType.YES_NO:
                field = forms.ChoiceField(
                    label=label,
                    required=required,
                    choices=[("", "—"), ("yes", _("yes")), ("no", _("no"))],
                )
            elif kind == FieldType.NUMBER:
                field = forms.CharField(
                    label=label,
                    required=required,
                    widget=forms.TextInput(attrs={"inputmode": "decimal"}),
                )
            else:
                field = forms.CharField(label=label, required=required, max_length=1000)
            self.fields[name] = field

    def answers(self) -> dict:
        return {
            definition["name"]: self.cleaned_data.get(f"answer_{definition['name']}", "")
            for definition in self.task.form_fields
        }

    def answer_fields(self):
        return [self[name] for name in self.fields if name.startswith("answer_")]
