"""我的 items, the supervisors' counts, photos kept without EXIF."""

import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from deliberation import kpis, selectors, services
from deliberation.tests import factories as f

pytestmark = pytest.mark.django_db


def test_items_for_resident(world):
    mine = f.proposal(world["alice"])
    other = f.proposal(world["bob"], title="楼道照明")
    services.proposal_support(proposal_id=other.pk, actor=world["alice"])
    items = selectors.items_for_resident(world["alice"])
    by_url = {item.url: item for item in items}
    assert by_url[f"/deliberation/proposals/{mine.pk}/"].title == mine.title
    assert (
        by_url[f"/deliberation/proposals/{other.pk}/"].kind
        != by_url[f"/deliberation/proposals/{mine.pk}/"].kind
    )
    assert len(items) == 2
    assert selectors.items_for_resident(world["carol"]) == []


def test_counts_per_community(world):
    proposal = f.proposal(world["alice"])
    services.proposal_support(proposal_id=proposal.pk, actor=world["bob"])
    services.proposal_review(proposal_id=proposal.pk, actor=world["staff"], decision="accept")
    since, until = timezone.now() - timedelta(days=1), timezone.now() + timedelta(days=1)
    row = kpis.row_for(world["a1"], since=since, until=until)
    assert (row.proposals, row.reviewed, row.reviewed_in_time) == (1, 1, 1)
    # alice proposed, bob supported: 2 of the 3 verified residents of A1 (eve is unverified)
    assert (row.participants, row.residents) == (2, 3)
    assert row.participation_rate == 66.7
    other = kpis.row_for(world["a2"], since=since, until=until)
    assert (other.proposals, other.participants, other.residents) == (0, 0, 1)


def _jpeg_with_exif() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    image = Image.new("RGB", (40, 30), (10, 200, 10))
    exif = Image.Exif()
    exif[0x010F] = "CameraMaker"
    image.save(buffer, format="JPEG", exif=exif)
    return SimpleUploadedFile("p.jpg", buffer.getvalue(), content_type="image/jpeg")


def test_photos_are_reencoded_without_exif(world):
    proposal = f.proposal(world["alice"], uploads=[_jpeg_with_exif()])
    photo = proposal.photos.get()
    with photo.image.open("rb") as handle:
        assert b"CameraMaker" not in handle.read()
    assert photo.thumbnail.name


def test_a_bad_photo_writes_nothing(world):
    from core.exceptions import ValidationFailed
    from deliberation.models import Proposal

    with pytest.raises(ValidationFailed) as caught:
        f.proposal(world["alice"], uploads=[SimpleUploadedFile("x.jpg", b"not an image")])
    assert "photos" in caught.value.extra
    assert not Proposal.objects.exists()


def test_public_text_masks_phones_for_the_public(world):
    proposal = f.proposal(world["alice"], description="联系我 13912345678")
    assert "13912345678" not in selectors.public_text(
        proposal.description, viewer=None, region_code=proposal.region_code
    )
    assert "13912345678" in selectors.public_text(
        proposal.description, viewer=world["staff"], region_code=proposal.region_code
    )


def test_retention_anonymises_participants_of_closed_meetings(world):
    from audit.retention import ANONYMISED, anonymise_closed_cases
    from deliberation.models import Meeting, MeetingParticipant

    meeting = Meeting.objects.create(
        community=world["a1"],
        region_code=world["a1"].code,
        title="旧会",
        place="x",
        starts_at=timezone.now() - timedelta(days=400),
        state="closed",
        held_at=timezone.now() - timedelta(days=400),
        created_by=world["staff"],
    )
    MeetingParticipant.objects.create(meeting=meeting, kind=f.kind(), name="张三")
    counts = anonymise_closed_cases(days=365)
    assert counts["deliberation.meeting"] == 1
    assert MeetingParticipant.objects.get(meeting=meeting).name == ANONYMISED
