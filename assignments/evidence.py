"""The evidence a task asks for, checked on the server: the issuer's form (its field
definitions), the worker's answers to it, the signature drawn on the phone (a PNG data URL from
static/js/assignments/signature.js) and the location. Pure functions: they raise
ValidationFailed with field messages and write nothing."""

from __future__ import annotations

import base64
import binascii
import io
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.files.base import ContentFile
from django.utils.translation import gettext as _
from PIL import Image

from assignments.models import FieldType
from core.exceptions import ValidationFailed
from core.images import prepare_photo

MAX_FORM_FIELDS = 20
MAX_CHOICES = 20
MAX_TEXT_ANSWER = 1000
MAX_SIGNATURE_BYTES = 512 * 1024
YES = {"yes", "true", "1", "是", "on"}
NO = {"no", "false", "0", "否"}
TYPE_WORDS = {
    "text": FieldType.TEXT,
    "文本": FieldType.TEXT,
    "number": FieldType.NUMBER,
    "数字": FieldType.NUMBER,
    "choice": FieldType.CHOICE,
    "选择": FieldType.CHOICE,
    "yes_no": FieldType.YES_NO,
    "yesno": FieldType.YES_NO,
    "是否": FieldType.YES_NO,
}


def _refuse(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, extra={field: [message]})


def form_fields_clean(raw: Iterable[Mapping[str, Any]], *, field: str = "form_fields") -> list:
    """The issuer's field definitions, normalised: [{name, label, type, required, choices}].
    Names are f1, f2 … in order (the answers are keyed by them)."""
    cleaned: list[dict[str, Any]] = []
    labels: set[str] = set()
    for index, item in enumerate(list(raw or [])):
        if not isinstance(item, Mapping):
            raise _refuse(field, _("Each form field must be an object."))
        label = str(item.get("label") or "").strip()
        if not label or len(label) > 60:
            raise _refuse(field, _("Each form field needs a label of at most 60 characters."))
        if label in labels:
            raise _refuse(
                field, _("Two form fields have the label “%(label)s”.") % {"label": label}
            )
        labels.add(label)
        kind = TYPE_WORDS.get(str(item.get("type") or "text").strip().lower())
        if kind is None:
            raise _refuse(
                field,
                _("“%(label)s”: the type must be text, number, choice or yes_no.")
                % {"label": label},
            )
        choices = [str(c).strip() for c in (item.get("choices") or []) if str(c).strip()]
        if kind == FieldType.CHOICE and not (2 <= len(choices) <= MAX_CHOICES):
            raise _refuse(
                field,
                _("“%(label)s”: a choice needs between 2 and %(max)s options.")
                % {"label": label, "max": MAX_CHOICES},
            )
        cleaned.append(
            {
                "name": f"f{index + 1}",
                "label": label,
                "type": str(kind),
                "required": bool(item.get("required", False)),
                "choices": choices if kind == FieldType.CHOICE else [],
            }
        )
    if len(cleaned) > MAX_FORM_FIELDS:
        raise _refuse(field, _("At most %(max)s form fields.") % {"max": MAX_FORM_FIELDS})
    return cleaned


def form_fields_parse(text: str, *, field: str = "form_fields") -> list:
    """The page's one-field-per-line notation: `label | type | option, option`, a `*` after
    the label for a required field, e.g. `家中人数* | number` or
    `房屋类型 | choice | 自有, 租住`."""
    items = []
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        parts = [part.strip() for part in line.split("|")]
        label = parts[0]
        required = label.endswith("*")
        items.append(
            {
                "label": label.rstrip("*").strip(),
                "type": parts[1] if len(parts) > 1 and parts[1] else "text",
                "required": required,
                "choices": list((parts[2] if len(parts) > 2 else "").replace("，", ",").split(",")),
            }
        )
    return form_fields_clean(items, field=field)


def form_answers_clean(fields: list, answers: Mapping[str, Any]) -> dict:
    """The worker's answers, checked against the definitions: {name: value} with numbers as
    numbers, yes/no as booleans; unknown names are dropped. Field messages name the field."""
    cleaned: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for definition in fields or []:
        name = definition["name"]
        raw = answers.get(name)
        value = "" if raw is None else str(raw).strip()
        if not value:
            if definition.get("required"):
                errors[name] = [_("“%(label)s” is required.") % {"label": definition["label"]}]
            continue
        kind = definition.get("type")
        if kind == FieldType.NUMBER:
            try:
                number = Decimal(value)
            except InvalidOperation:
                errors[name] = [_("“%(label)s” must be a number.") % {"label": definition["label"]}]
                continue
            if not number.is_finite() or abs(number) > Decimal("1e12"):
                errors[name] = [_("“%(label)s” must be a number.") % {"label": definition["label"]}]
                continue
            cleaned[name] = int(number) if number == number.to_integral_value() else float(number)
        elif kind == FieldType.CHOICE:
            if value not in definition.get("choices", []):
                errors[name] = [
                    _("“%(label)s”: choose one of the options.") % {"label": definition["label"]}
                ]
                continue
            cleaned[name] = value
        elif kind == FieldType.YES_NO:
            if value.lower() in YES:
                cleaned[name] = True
            elif value.lower() in NO:
                cleaned[name] = False
            else:
                errors[name] = [
                    _("“%(label)s”: answer yes or no.") % {"label": definition["label"]}
                ]
        else:
            if len(value) > MAX_TEXT_ANSWER:
                errors[name] = [
                    _("“%(label)s” is too long (at most %(max)s characters).")
                    % {"label": definition["label"], "max": MAX_TEXT_ANSWER}
                ]
                continue
            cleaned[name] = value
    if errors:
        raise ValidationFailed(_("Check the answers to the form."), extra=errors)
    return cleaned


def form_answers_labelled(fields: list, answers: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(label, shown value) pairs in the form's order, for pages and the receipt."""
    rows = []
    for definition in fields or []:
        if definition["name"] not in answers:
            continue
        value = answers[definition["name"]]
        if isinstance(value, bool):
            value = _("yes") if value else _("no")
        rows.append((definition["label"], str(value)))
    return rows


def signature_clean(data_url: str, *, field: str = "signature") -> ContentFile:
    """A PNG data URL drawn on the phone → a JPEG file to store (re-encoded, no metadata).
    Refuses anything that is not a PNG, too large, or blank."""
    prefix = "data:image/png;base64,"
    if not data_url or not data_url.startswith(prefix):
        raise _refuse(field, _("Draw the signature in the box."))
    encoded = data_url[len(prefix) :]
    if len(encoded) > MAX_SIGNATURE_BYTES * 4 // 3 + 4:
        raise _refuse(field, _("The signature is too large."))
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise _refuse(field, _("Draw the signature in the box.")) from exc
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        raise _refuse(field, _("Draw the signature in the box."))
    prepared = prepare_photo(ContentFile(data, name="signature.png"), field=field)
    with Image.open(io.BytesIO(prepared.image)) as image:
        darkest, _lightest = image.convert("L").getextrema()
    if darkest > 200:  # nothing drawn: a white (or transparent, flattened to white) box
        raise _refuse(field, _("The signature is empty: ask the addressee to sign."))
    return ContentFile(prepared.image, name="signature.jpg")


def photo_clean(upload, *, field: str = "photo") -> tuple[ContentFile, tuple[float, float] | None]:
    """A photo checked by content and re-encoded without EXIF; its GPS (if it had one)."""
    prepared = prepare_photo(upload, field=field)
    return ContentFile(prepared.image, name="photo.jpg"), prepared.gps


def location_clean(latitude: Any, longitude: Any) -> tuple[Decimal, Decimal] | None:
    """(lat, lng) rounded to 6 places, None when both are empty; refuses half or out of range."""
    if latitude in (None, "") and longitude in (None, ""):
        return None
    try:
        lat = Decimal(str(latitude)).quantize(Decimal("0.000001"))
        lng = Decimal(str(longitude)).quantize(Decimal("0.000001"))
    except (InvalidOperation, ValueError) as exc:
        raise _refuse("latitude", _("The location is not valid.")) from exc
    if not (-90 <= lat <= 90 and -180 <= lng <= 180):
        raise _refuse("latitude", _("The location is not valid."))
    return lat, lng
