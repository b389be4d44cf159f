"""L4: attachments capped in count and total size (Chinese field errors, nothing stored) and
online filing rate-limited per account; each image decoded once. M5: stored names are random,
the uploader's name only names the download. I2: residents do not set level or headcount."""

from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from petitions import services
from petitions.models import Petition, PetitionAttachment
from petitions.tests import factories as f

pytestmark = pytest.mark.django_db


def pdf(name: str = "证据.pdf", size: int = 20) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"%PDF-1.4 " + b"0" * size, "application/pdf")


def form_data(region, **extra) -> dict:
    data = {
        "kind": "request",
        "category": f.category("07").pk,
        "region": region.pk,
        "matter": "楼下餐馆油烟扰民",
        "request": "请求整改",
        "facts_and_reasons": "油烟直排",
        "name": "张三",
        "id_number": "",
        "phone": "13800000001",
        "address": "西桥社区1号",
    }
    data.update(extra)
    return data


def stored_files() -> list[Path]:
    root = Path(settings.MEDIA_ROOT) / "petitions"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_ten_attachments_are_refused_with_a_chinese_form_error(client, region_tree):
    client.force_login(f.resident())
    files = [pdf(f"p{i}.pdf") for i in range(services.MAX_ATTACHMENTS + 1)]
    response = client.post(
        reverse("petitions:file"), form_data(region_tree["a1"], attachments=files)
    )
    assert response.status_code == 200  # the form again, with the error
    assert "最多上传 9 个附件" in response.text
    assert not Petition.objects.exists() and not PetitionAttachment.objects.exists()
    assert stored_files() == []


def test_attachments_over_30_mb_together_are_refused(region_tree, district_officer):
    each = 8 * 1024 * 1024  # under the 10 MB per file, 32 MB together
    files = [pdf(f"p{i}.pdf", size=each) for i in range(4)]
    with pytest.raises(services.ValidationFailed) as excinfo:
        f.file_letter(district_officer, region=region_tree["a1"], attachments=files)
    assert "attachments" in excinfo.value.extra
    assert "30" in excinfo.value.extra["attachments"][0]
    assert not Petition.objects.exists() and stored_files() == []


def test_nine_attachments_are_stored_under_random_names(client, region_tree):
    resident = f.resident()
    client.force_login(resident)
    files = [pdf(f"张三的证据{i}.pdf") for i in range(services.MAX_ATTACHMENTS)]
    response = client.post(
        reverse("petitions:file"), form_data(region_tree["a1"], attachments=files)
    )
    assert response.status_code == 302
    petition = Petition.objects.get()
    attachments = list(petition.attachments.order_by("pk"))
    assert len(attachments) == 9
    for attachment in attachments:
        stored = Path(attachment.file.name).name
        assert "张三" not in attachment.file.name and "证据" not in attachment.file.name
        assert len(Path(stored).stem) == 32 and stored.endswith(".pdf")  # uuid4 hex
        assert attachment.name.startswith("张三的证据")  # the original, for display only
    # Served only through the checked view, under the original name; no /media/ URL anywhere.
    page = client.get(reverse("petitions:detail", args=[petition.pk]))
    assert "/media/" not in page.text
    download = client.get(reverse("petitions:attachment", args=[petition.pk, attachments[0].pk]))
    assert download.status_code == 200
    assert "attachment" in download["Content-Disposition"]
    assert "%E5%BC%A0%E4%B8%89" in download["Content-Disposition"]  # 张三, RFC 5987
    other = f.resident("other", phone="13800000002")
    client.force_login(other)
    assert (
        client.get(
            reverse("petitions:attachment", args=[petition.pk, attachments[0].pk])
        ).status_code
        == 404
    )


def test_each_image_attachment_is_decoded_once(region_tree, district_officer, monkeypatch):
    import io

    from PIL import Image

    from core import uploads

    calls = []
    real = uploads.prepare_photo

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(uploads, "prepare_photo", counting)  # where the check looks it up
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "red").save(buffer, "PNG")
    image = SimpleUploadedFile("现场.png", buffer.getvalue(), "image/png")
    petition = f.file_letter(district_officer, region=region_tree["a1"], attachments=[image])
    assert len(calls) == 1
    attachment = petition.attachments.get()
    assert attachment.file.name.endswith(".jpg") and "现场" not in attachment.file.name


def test_online_filing_is_rate_limited_per_account_on_page_and_api(client, region_tree, settings):
    settings.PETITION_FILE_RATE = "2/h"
    resident = f.resident()
    client.force_login(resident)
    api = APIClient()
    api.force_authenticate(resident)
    payload = {
        "kind": "request",
        "matter": "楼下餐馆油烟扰民",
        "request": "请求整改",
        "facts_and_reasons": "油烟直排",
        "category": "07",
        "region": region_tree["a1"].code,
        "petitioners": [{"name": "张三", "address": "西桥社区1号"}],
    }
    assert api.post("/api/v1/petitions/", payload, format="json").status_code == 201
    assert client.post(reverse("petitions:file"), form_data(region_tree["a1"])).status_code == 302
    # The third filing in the hour: refused on the page and on the API (one budget).
    page = client.post(reverse("petitions:file"), form_data(region_tree["a1"]))
    assert page.status_code == 429 and page["Retry-After"]
    refused = api.post("/api/v1/petitions/", payload, format="json")
    assert refused.status_code == 429 and refused["Retry-After"]
    assert Petition.objects.count() == 2
    # Another account has its own budget.
    other = APIClient()
    other.force_authenticate(f.resident("other", phone="13800000002"))
    assert other.post("/api/v1/petitions/", payload, format="json").status_code == 201


def test_residents_cannot_set_level_or_headcount_online(region_tree):
    api = APIClient()
    api.force_authenticate(f.resident())
    response = api.post(
        "/api/v1/petitions/",
        {
            "channel": "web",
            "kind": "request",
            "matter": "楼下餐馆油烟扰民",
            "request": "请求整改",
            "facts_and_reasons": "油烟直排",
            "category": "07",
            "region": region_tree["a1"].code,
            "level": "city",
            "headcount": 500,
            "petitioners": [{"name": "张三", "address": "西桥社区1号"}],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    petition = Petition.objects.get()
    assert petition.level == "village" and petition.headcount == 1
