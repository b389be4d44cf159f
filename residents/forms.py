"""Forms of the residents' pages: they only read the input; residents.services checks and writes.

The code forms have two buttons: "send the code" (field `send`) and the form's own submit. The
CAPTCHA field is added only once the client address has asked for several codes today."""

from __future__ import annotations

from captcha.fields import CaptchaField
from django import forms
from django.utils.translation import gettext_lazy as _

from grids.models import Region


class CommunityChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Region) -> str:
        street = obj.parent.name if obj.parent_id else ""
        return f"{street} {obj.name}".strip()


class _CodeForm(forms.Form):
    phone = forms.CharField(
        label=_("Mobile phone"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    code = forms.CharField(
        label=_("SMS code"),
        max_length=6,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )

    def __init__(self, *args, captcha: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if captcha:
            self.fields["captcha"] = CaptchaField(label=_("Characters in the picture"))


class SignUpForm(_CodeForm):
    name = forms.CharField(label=_("Your name"), max_length=64, required=False)
    home_region = CommunityChoiceField(
        label=_("The community you live in"),
        queryset=Region.objects.none(),
        required=False,
        empty_label=_("Choose…"),
    )
    password = forms.CharField(
        label=_("Password (optional: without one, sign in by SMS code)"),
        required=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    privacy_accepted = forms.BooleanField(
        label=_("I have read the privacy notice and agree to it"), required=False
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["home_region"]
        if not (isinstance(field, forms.ModelChoiceField)):
            raise AssertionError("unreachable: isinstance(field, forms.ModelChoiceField)")
        field.queryset = (
            Region.objects.filter(level=Region.Level.COMMUNITY)
            .defer("boundary")
            .select_related("parent")
            .order_by("code")
        )


class SignInForm(_CodeForm):
    pass


class CodeOnlyForm(forms.Form):
    code = forms.CharField(label=_("SMS code"), max_length=6, required=False)


class CloseAccountForm(forms.Form):
    confirm_phone = forms.CharField(label=_("Type your phone number to confirm"), max_length=20)
