from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _


class LoginForm(AuthenticationForm):
    username = forms.CharField(
        label=_("Username or mobile phone"),
        max_length=150,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )
    error_messages = {
        "invalid_login": _(
            "Wrong username/phone or password. Accounts are locked after repeated failures."
        ),
        "inactive": _("This account is disabled."),
    }


class TokenForm(forms.Form):
    token = forms.CharField(
        label=_("Code from your authenticator app, or a recovery code"),
        max_length=16,
        widget=forms.TextInput(
            attrs={"autofocus": True, "autocomplete": "one-time-code", "inputmode": "text"}
        ),
    )

    def clean_token(self) -> str:
        return "".join(self.cleaned_data["token"].split()).lower()


class EnrolForm(forms.Form):
    token = forms.CharField(
        label=_("The 6-digit code your app shows"),
        max_length=8,
        widget=forms.TextInput(
            attrs={"autofocus": True, "autocomplete": "one-time-code", "inputmode": "numeric"}
        ),
    )

    def clean_token(self) -> str:
        token = "".join(self.cleaned_data["token"].split())
        if not token.isdigit():
            raise forms.ValidationError(_("Enter the digits your app shows."))
        return token


class UserSearchForm(forms.Form):
    q = forms.CharField(label=_("Username or name"), max_length=150, required=False)


class GrantForm(forms.Form):
    """The roles and scope region of one account (the security administrator's page)."""

    roles = forms.MultipleChoiceField(
        label=_("Roles"), required=False, widget=forms.CheckboxSelectMultiple
    )
    scope_region = forms.ModelChoiceField(label=_("Scope region"), queryset=None, required=False)

    def __init__(self, *args, **kwargs) -> None:
        from accounts.models import RoleCode, User

        super().__init__(*args, **kwargs)
        self.fields["roles"].choices = RoleCode.choices
        # accounts sits below grids: the region model through the relation User declares.
        region_model = User._meta.get_field("scope_region").related_model
        self.fields["scope_region"].queryset = region_model._default_manager.order_by("code")

    def clean_roles(self) -> list[str]:
        from accounts.policy import separation_problem

        roles = self.cleaned_data["roles"]
        problem = separation_problem(roles)
        if problem:
            raise forms.ValidationError(problem)
        return roles
