"""ID numbers encrypted at rest (core.crypto), shown masked unless the role may see them, every
full showing audited; state changes audited."""

import pytest
from cryptography.fernet import Fernet
from django.db import connection
from django.urls import reverse

from audit.models import AuditEvent, AuditKind
from core import crypto
from mediation.models import CaseParty
from mediation.tests import builders as mb
from petitions.models import Petitioner
from petitions.tests import factories as pf

pytestmark = pytest.mark.django_db

ID_NUMBER = "350602199001011234"


def raw_value(model, field: str, pk: int) -> str:
    table = model._meta.db_table
    column = model._meta.get_field(field).column
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608
        return cursor.fetchone()[0]


class TestCrypto:
    def test_round_trip_is_not_deterministic_and_hides_the_value(self):
        first, second = crypto.encrypt(ID_NUMBER), crypto.encrypt(ID_NUMBER)
        assert first != second
        assert ID_NUMBER not in first and ID_NUMBER[-4:] not in first
        assert crypto.decrypt(first) == crypto.decrypt(second) == ID_NUMBER
        assert crypto.encrypt("") == "" and crypto.decrypt("") == ""

    def test_rotation_first_key_encrypts_all_keys_decrypt(self, settings):
        old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
        settings.FIELD_ENCRYPTION_KEYS = [old]
        stored = crypto.encrypt(ID_NUMBER)
        settings.FIELD_ENCRYPTION_KEYS = [new, old]
        assert crypto.decrypt(stored) == ID_NUMBER
        rotated = crypto.rotate(stored)
        settings.FIELD_ENCRYPTION_KEYS = [new]
        assert crypto.decrypt(rotated) == ID_NUMBER
        with pytest.raises(Exception, match="FIELD_ENCRYPTION_KEY"):
            crypto.decrypt(stored)


class TestMediationParties:
    def test_id_number_encrypted_in_the_database_and_read_back(self, world):
        case = mb.walk_in(world)
        party = case.parties.get(role=CaseParty.Role.APPLICANT)
        stored = raw_value(CaseParty, "id_number", party.pk)
        assert stored.startswith(crypto.PREFIX)
        assert ID_NUMBER not in stored and ID_NUMBER[-4:] not in stored
        assert CaseParty.objects.get(pk=party.pk).id_number == ID_NUMBER
        assert party.id_number_for(world.supervisor) == "3506**********1234"

    def test_full_view_is_audited_masked_view_is_not(self, client, world):
        case = mb.walk_in(world)
        client.force_login(world.supervisor)
        page = client.get(reverse("mediation:case_detail", args=[case.pk])).content.decode()
        assert ID_NUMBER not in page
        assert not AuditEvent.objects.filter(kind=AuditKind.UNMASKED).exists()
        client.force_login(world.mediator)
        page = client.get(reverse("mediation:case_detail", args=[case.pk])).content.decode()
        assert ID_NUMBER in page
        events = AuditEvent.objects.filter(kind=AuditKind.UNMASKED, actor=world.mediator)
        shown = sorted(tuple(e.details["fields"]) for e in events)
        # The applicant's phone and ID number, the respondent's phone: one event each.
        assert shown == [("id_number",), ("phone",), ("phone",)]
        assert set(events.values_list("object_type", flat=True)) == {"mediation.caseparty"}
        assert ID_NUMBER not in str(list(events.values_list("details", flat=True)))

    def test_each_timeline_event_is_an_audited_state_change(self, world):
        case = mb.walk_in(world)
        changes = AuditEvent.objects.filter(
            kind=AuditKind.STATE_CHANGED, object_type="mediation.mediationcase"
        )
        assert changes.count() == case.events.count() >= 1
        first = changes.order_by("id").first()
        assert first.object_id == str(case.pk)
        assert first.actor_id == world.mediator.pk
        assert first.details["action"] == case.events.order_by("id").first().action


class TestPetitioners:
    def test_id_number_encrypted_matching_still_works(self, region_tree):
        officer = pf.officer(region=region_tree["district"])
        first = pf.file_letter(officer, region=region_tree["a1"])
        person = first.petitioners.get()
        stored = raw_value(Petitioner, "id_number_value", person.pk)
        assert stored.startswith(crypto.PREFIX)
        assert pf.ID_A not in stored and pf.ID_A[-4:] not in stored
        assert Petitioner.objects.get(pk=person.pk).id_number == pf.ID_A
        assert person.masked_id_number == "3506**********1235"
        # The same person and matter again: found by the keyed hash, as a possible repeat of
        # the open petition for the officer to confirm (a typed ID number never merges, H1).
        second = pf.file_letter(officer, region=region_tree["a1"])
        suggestion = second.merge_suggestions.get()
        assert suggestion.candidate_id == first.pk and suggestion.matched_by == "id_number"

    def test_officer_view_in_full_is_audited(self, client, region_tree):
        officer = pf.officer(region=region_tree["district"])
        petition = pf.file_letter(officer, region=region_tree["a1"])
        client.force_login(officer)
        page = client.get(reverse("petitions:detail", args=[petition.pk])).content.decode()
        assert pf.ID_A in page
        event = AuditEvent.objects.get(kind=AuditKind.UNMASKED)
        assert event.object_type == "petitions.petition"
        assert event.object_id == str(petition.pk)
        assert event.details["fields"] == ["id_number", "phone"]
