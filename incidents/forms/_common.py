"""What the incident pages' forms share: the base form, photos, categories, limits."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from incidents import page_selectors
from incidents.models import Category, Incident
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
