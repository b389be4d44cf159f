"""Forms of the incident pages: what each requires, per user, before a service is called."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import QueryDict
from django.utils import translation
from django.utils.datastructures import MultiValueDict

from incidents.forms import (
    BulkAssignForm,
    ExtensionForm,
    PhotosField,
    RateForm,
    ReportForm,
    TargetForm,
    TrackForm,
    VerifyForm,
)
from incidents.photos import MAX_PHOTOS
from incidents.tests.conftest import IN_A1_1

pytestmark = pytest.mark.django_db


def report_data(**overrides) -> dict:
    data = {
        "category": "0102",
        "description": "垃圾",
        "lat": str(IN_A1_1[0]),
        "lng": str(IN_A1_1[1]),
        "reporter_phone": "13911112222",
    }
    data.update(overrides)
    return data


def upload(name: str = "a.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"\xff\xd8data", content_type="image/jpeg")


def test_anonymous_report_requires_a_mainland_mobile(city):
    assert ReportForm(report_data(), user=None).is_valid()
    form = ReportForm(report_data(reporter_phone=""), user=None)
    assert not form.is_valid() and "reporter_phone" in form.errors
    form = ReportForm(report_data(reporter_phone="10012345678"), user=None)
    assert not form.is_valid() and "reporter_phone" in form.errors


def test_report_form_fields_depend_on_the_user(city):
    anonymous = ReportForm(user=None)
    assert {"reporter_phone", "website"} <= set(anonymous.fields)
    assert "channel" not in anonymous.fields
    resident = ReportForm(user=city.resident)
    assert not {"reporter_phone", "website", "channel"} & set(resident.fields)
    worker = ReportForm(user=city.worker)
    assert [code for code, _ in worker.fields["channel"].choices] == ["patrol", "resident_web"]
    dispatcher = ReportForm(user=city.dispatcher)
    codes = [code for code, _ in dispatcher.fields["channel"].choices]
    assert "hotline_12345" in codes and "reporter_phone" in dispatcher.fields


def test_report_form_cleans_the_category_and_default_channel(city):
    form = ReportForm(report_data(reporter_phone=None), user=city.worker)
    assert form.is_valid(), form.errors
    kwargs = form.service_kwargs()
    assert kwargs["category"].code == "0102" and kwargs["channel"] == "patrol"
    large_class = ReportForm(report_data(category="01"), user=None)
    assert not large_class.is_valid() and "category" in large_class.errors


def test_internal_categories_are_offered_to_staff_only(city):
    from incidents.models import Category

    secret = Category.objects.filter(parent__isnull=False).first()
    secret.internal_only = True
    secret.save()

    def codes(user):
        groups = ReportForm(user=user).fields["category"].choices[1:]
        return {code for _, options in groups for code, _ in options}

    assert secret.code not in codes(None) and secret.code not in codes(city.resident)
    assert secret.code in codes(city.worker)


def test_honeypot_field_refuses_the_report(city):
    form = ReportForm(report_data(website="x"), user=None)
    assert not form.is_valid() and form.non_field_errors()


def test_photos_field_takes_several_and_caps_them():
    field = PhotosField()
    assert field.clean([upload("a.jpg"), upload("b.jpg")]) and len(field.clean([upload()])) == 1
    assert field.clean([]) == []
    with pytest.raises(ValidationError, match=str(MAX_PHOTOS)):
        field.clean([upload(f"{n}.jpg") for n in range(MAX_PHOTOS + 1)])
    with pytest.raises(ValidationError):
        PhotosField(required=True).clean([])
    widget = field.widget.render("photos", None)
    assert 'accept="image/*"' in widget and 'capture="environment"' in widget
    assert "multiple" in widget


def test_photos_help_follows_the_language():
    field = PhotosField()
    with translation.override("en"):
        assert str(field.help_text).startswith("Up to 9 photos")


def test_track_form_normalises_the_number_and_the_code():
    form = TrackForm({"no": " gg12345678 ", "code": " k7m3-q9xp "})
    assert form.is_valid() and form.cleaned_data["no"] == "GG12345678"
    assert form.cleaned_data["code"] == "K7M3Q9XP"
    assert not TrackForm({"no": "GG1", "code": ""}).is_valid()
    assert not TrackForm({"no": "GG1", "phone_last4": "2222"}).is_valid()


def test_rate_form_rating_or_reopen_with_a_comment():
    assert RateForm({"rating": "4"}).is_valid()
    assert not RateForm({"rating": "6"}).is_valid()
    assert not RateForm({}).is_valid()
    reopen = RateForm({"reopen": "True"})
    assert not reopen.is_valid() and "comment" in reopen.errors
    reopen = RateForm({"reopen": "True", "comment": "还没修好", "rating": "5"})
    assert reopen.is_valid() and reopen.cleaned_data["rating"] == 1


def test_target_form_needs_what_its_target_needs(city):
    def form(**data):
        return TargetForm(data, user=city.dispatcher)

    assert not form(target="person").is_valid()
    person = form(target="person", assignee=str(city.worker.pk))
    assert person.is_valid(), person.errors
    assert person.service_kwargs()["assignee_id"] == city.worker.pk
    assert not form(target="unit").is_valid()
    assert not form(target="unit", level="department").is_valid()
    unit = form(target="unit", level="department", department="城管执法")
    assert unit.is_valid(), unit.errors
    assert unit.service_kwargs() == {
        "assignee_id": None,
        "level": "department",
        "department": "城管执法",
        "to_pool": False,
        "note": "",
    }
    pool = form(target="pool", assignee=str(city.worker.pk))
    assert pool.is_valid() and pool.service_kwargs()["to_pool"]
    assert pool.service_kwargs()["assignee_id"] is None


def test_target_form_offers_the_people_of_my_area(city):
    people = {value for value, _ in TargetForm(user=city.dispatcher).fields["assignee"].choices}
    assert str(city.worker.pk) in people and str(city.handler.pk) in people
    assert str(city.worker_b.pk) not in people and str(city.resident.pk) not in people
    assert str(city.dispatcher_b.pk) not in people


def test_extension_form_reads_a_datetime_local_value():
    form = ExtensionForm({"until": "2031-05-01T10:30", "reason": "等材料"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["until"].hour == 10 and form.cleaned_data["until"].tzinfo


def test_verify_form_category_is_optional(city):
    form = VerifyForm({}, user=city.worker)
    assert form.is_valid() and form.cleaned_data["category"] is None
    form = VerifyForm({"category": "0103"}, user=city.worker)
    assert form.is_valid() and form.cleaned_data["category"].code == "0103"


def test_bulk_assign_form_needs_incidents_and_a_person(city):
    data = QueryDict(mutable=True)
    data.setlist("incident", ["3", "4"])
    data["assignee"] = str(city.worker.pk)
    form = BulkAssignForm(data, user=city.dispatcher)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["incident"] == [3, 4]
    empty = BulkAssignForm(
        MultiValueDict({"assignee": [str(city.worker.pk)]}), user=city.dispatcher
    )
    assert not empty.is_valid() and "incident" in empty.errors
    data["assignee"] = str(city.resident.pk)
    assert not BulkAssignForm(data, user=city.dispatcher).is_valid()


def test_report_form_wants_a_pin_unless_the_photo_gives_the_place(city):
    no_pin = ReportForm(report_data(lat="", lng=""), user=None)
    assert not no_pin.is_valid() and "lat" in no_pin.errors
    from_photo = ReportForm(
        report_data(lat="", lng="", use_photo_location="on"),
        MultiValueDict({"photos": [upload()]}),
        user=None,
    )
    assert from_photo.is_valid(), from_photo.errors
    assert not ReportForm(
        report_data(lat="", lng="", use_photo_location="on"), user=None
    ).is_valid()
