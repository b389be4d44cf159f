"""Pages: filing, intake, list, detail with actions, print, track, analysis and export;
masked personal data; errors shown, never a 500."""

from io import BytesIO

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from petitions.models import Petition, PetitionState
from petitions.tests import factories as f
from tests.builders import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db
S = PetitionState


def login(client, user):
    client.force_login(user)
    return client


def test_home_sends_each_role_to_its_page(client, region_tree, district_officer):
    login(client, district_officer)
    assert client.get(reverse("petitions:home")).url == reverse("petitions:list")
    login(client, f.resident())
    assert client.get(reverse("petitions:home")).url == reverse("petitions:mine")


def test_resident_files_online_through_the_form(client, region_tree):
    resident = f.resident()
    login(client, resident)
    page = client.get(reverse("petitions:file"))
    assert page.status_code == 200 and "petition-file-form" in page.text
    response = client.post(
        reverse("petitions:file"),
        {
            "kind": "request",
            "category": f.category("07").pk,
            "region": region_tree["a1"].pk,
            "matter": "楼下餐馆油烟扰民",
            "request": "请求整改",
            "facts_and_reasons": "油烟直排",
            "name": "张三",
            "id_number": f.ID_A,
            "phone": "13800000001",
            "address": "西桥社区1号",
        },
    )
    petition = Petition.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("petitions:detail", args=[petition.pk])
    detail = client.get(response.url)
    assert petition.tracking_number in detail.text
    assert "3506**********1235" in detail.text and f.ID_A not in detail.text
    assert petition.tracking_number in client.get(reverse("petitions:mine")).text


def test_bad_id_number_shows_a_form_error(client, region_tree):
    login(client, f.resident())
    response = client.post(
        reverse("petitions:file"),
        {
            "kind": "request",
            "category": f.category("07").pk,
            "region": region_tree["a1"].pk,
            "matter": "m",
            "request": "r",
            "facts_and_reasons": "f",
            "name": "张三",
            "id_number": "350602199001011236",
            "address": "a",
        },
    )
    assert response.status_code == 200
    assert "errorlist" in response.text
    assert not Petition.objects.exists()


def test_officer_registers_a_letter_with_several_petitioners(client, region_tree, district_officer):
    login(client, district_officer)
    assert client.get(reverse("petitions:intake")).status_code == 200
    data = {
        "channel": "letter",
        "kind": "request",
        "category": f.category("04").pk,
        "region": region_tree["street_a"].pk,
        "matter": "征地补偿",
        "request": "足额补偿",
        "facts_and_reasons": "未发放",
        "is_joint": "on",
        "headcount": "12",
        "people-TOTAL_FORMS": "3",
        "people-INITIAL_FORMS": "0",
        "people-MIN_NUM_FORMS": "1",
        "people-MAX_NUM_FORMS": "50",
        "people-0-name": "王一",
        "people-0-id_number": f.ID_A,
        "people-0-is_representative": "on",
        "people-1-name": "王二",
        "people-1-phone": "0596-2345678",
        "people-1-is_representative": "on",
    }
    response = client.post(reverse("petitions:intake"), data)
    assert response.status_code == 302
    petition = Petition.objects.get()
    assert petition.is_joint and petition.headcount == 12 and petition.petitioners.count() == 2


def test_intake_is_for_officers_only(client, region_tree):
    login(client, f.resident())
    assert client.get(reverse("petitions:intake")).status_code == 404
    assert client.get(reverse("petitions:list")).status_code == 404
    assert client.get(reverse("petitions:analysis")).status_code == 404
    assert client.get(reverse("petitions:export")).status_code == 404


def test_officer_accepts_and_replies_through_the_detail_page(client, region_tree, district_officer):
    resident = f.resident()
    petition = f.file_web(resident, region=region_tree["a1"])
    login(client, district_officer)
    detail = client.get(reverse("petitions:detail", args=[petition.pk]))
    assert 'data-testid="action-accept"' in detail.text
    assert f.ID_A in detail.text  # the officer in scope sees the ID number
    url = reverse("petitions:action", args=[petition.pk, "accept"])
    assert client.post(url, {"accept-note": "受理"}).status_code == 302
    petition.refresh_from_db()
    assert petition.state == S.ACCEPTED
    # An illegal move shows a message, not a 500.
    response = client.post(url, {}, follow=True)
    assert response.status_code == 200 and "message-error" in response.text
    response = client.post(
        reverse("petitions:action", args=[petition.pk, "reply"]),
        {
            "reply-request": "整改",
            "reply-facts_and_reasons": "属实",
            "reply-decision": "责令整改",
            "reply-legal_basis": "大气污染防治法",
            "reply-outcome": "support",
        },
    )
    assert response.status_code == 302
    petition.refresh_from_db()
    assert petition.state == S.REPLIED
    printed = client.get(reverse("petitions:opinion_print", args=[petition.pk, "reply"]))
    assert printed.status_code == 200
    assert "大气污染防治法" in printed.text and "opinion-document" in printed.text
    # The resident rates it.
    login(client, resident)
    client.post(
        reverse("petitions:action", args=[petition.pk, "rate"]),
        {"rate-satisfaction": "satisfied"},
    )
    petition.refresh_from_db()
    assert petition.satisfaction == "satisfied"


def test_invalid_action_form_is_reported(client, region_tree, district_officer):
    petition = f.file_letter(district_officer, region=region_tree["a1"])
    login(client, district_officer)
    response = client.post(
        reverse("petitions:action", args=[petition.pk, "decline"]), {}, follow=True
    )
    assert "message-error" in response.text
    assert (
        client.post(reverse("petitions:action", args=[petition.pk, "nonsense"])).status_code == 404
    )


def test_other_people_cannot_open_a_petition(client, region_tree, district_officer):
    petition = f.file_web(f.resident(), region=region_tree["a1"])
    login(client, f.resident("other", phone="13800000002"))
    assert client.get(reverse("petitions:detail", args=[petition.pk])).status_code == 404
    login(client, f.officer("outsider", region=region_tree["street_b"]))
    assert client.get(reverse("petitions:detail", args=[petition.pk])).status_code == 404


def test_list_filters_and_overdue_page(client, region_tree, district_officer):
    a = f.file_letter(district_officer, region=region_tree["a1"])
    b = f.file_letter(
        district_officer,
        region=region_tree["a2"],
        matter="建筑工地拖欠工资",
        request="支付工资",
        cat=f.category("03"),
        people=[f.person("李四", id_number=f.ID_B, phone="13900000002")],
    )
    Petition.objects.filter(pk=b.pk).update(overdue=True)
    login(client, district_officer)
    page = client.get(reverse("petitions:list"))
    assert a.tracking_number in page.text and b.tracking_number in page.text
    assert "13900000001" not in page.text  # the list shows no phones
    page = client.get(reverse("petitions:list"), {"category": f.category("03").pk})
    assert a.tracking_number not in page.text and b.tracking_number in page.text
    page = client.get(reverse("petitions:list"), {"q": "工资"})
    assert a.tracking_number not in page.text and b.tracking_number in page.text
    overdue = client.get(reverse("petitions:overdue"))
    assert b.tracking_number in overdue.text and a.tracking_number not in overdue.text


def test_supervisor_sees_masked_data(client, region_tree, district_officer):
    petition = f.file_letter(district_officer, region=region_tree["a1"])
    login(client, f.supervisor(region=region_tree["district"]))
    page = client.get(reverse("petitions:detail", args=[petition.pk]))
    assert page.status_code == 200
    assert f.ID_A not in page.text and "13900000001" not in page.text
    assert "3506**********1235" in page.text and "139****0001" in page.text
    assert 'data-testid="action-accept"' not in page.text


def test_track_page_without_login(client, region_tree, district_officer):
    petition = f.file_letter(district_officer, region=region_tree["a1"])
    url = reverse("petitions:track")
    assert client.get(url).status_code == 200
    response = client.post(
        url, {"tracking_number": petition.tracking_number, "phone_last4": "0001"}
    )
    assert "track-result" in response.text and "张*" in response.text
    assert "13900000001" not in response.text and f.ID_A not in response.text
    response = client.post(
        url, {"tracking_number": petition.tracking_number, "phone_last4": "1234"}
    )
    assert "track-not-found" in response.text


def test_track_shows_the_petition_a_submission_joined(client, region_tree, district_officer):
    # The same account's own earlier petition: shown (H1: only then).
    resident = f.resident()
    first = f.file_web(resident, region=region_tree["a1"])
    again = f.file_web(resident, region=region_tree["a1"], matter="餐馆油烟扰民")
    assert again.merged_into == first
    login(client, resident)
    response = client.post(reverse("petitions:track"), {"tracking_number": again.tracking_number})
    assert "track-merged" in response.text and first.tracking_number in response.text


def _confirm_on_the_page(client, officer, petition):
    login(client, officer)
    suggestion = petition.merge_suggestions.get()
    page = client.get(reverse("petitions:detail", args=[petition.pk]))
    assert 'data-testid="merge-suggestions"' in page.text
    assert suggestion.candidate.tracking_number in page.text  # "possible repeat of XF…"
    client.post(
        reverse("petitions:action", args=[petition.pk, "merge_confirm"]),
        {"merge_confirm-suggestion": suggestion.pk},
    )
    petition.refresh_from_db()
    return petition


def test_merge_explanation_and_undo_on_the_page(client, region_tree, district_officer):
    f.file_letter(district_officer, region=region_tree["a1"])
    again = f.file_letter(district_officer, region=region_tree["a1"], matter="餐馆油烟扰民")
    assert _confirm_on_the_page(client, district_officer, again).state == S.MERGED
    login(client, district_officer)
    page = client.get(reverse("petitions:detail", args=[again.pk]))
    assert 'data-testid="merge-explanation"' in page.text
    assert "0.35" in page.text  # the threshold that applied is shown
    client.post(
        reverse("petitions:action", args=[again.pk, "undo_merge"]),
        {"undo_merge-reason": "另一家餐馆"},
    )
    again.refresh_from_db()
    assert again.state == S.RECEIVED


def test_analysis_page_and_masked_xlsx_export(client, region_tree, district_officer):
    petition = f.file_letter(district_officer, region=region_tree["a1"])
    login(client, district_officer)
    page = client.get(reverse("petitions:analysis"))
    assert page.status_code == 200
    assert "vendor/echarts/echarts.min.js" in page.text and 'id="chart-month"' in page.text
    assert 'id="analysis-data"' in page.text
    response = client.get(reverse("petitions:export"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    workbook = load_workbook(BytesIO(response.content))
    sheet = workbook.worksheets[0]
    headers = [cell.value for cell in sheet[1]]
    assert headers[0] == "信访编号" and "身份证号" in headers and "联系电话" in headers
    row = [cell.value for cell in sheet[2]]
    assert petition.tracking_number in row
    text = " ".join(str(value) for value in row)
    assert "3506**********1235" in text and "139****0001" in text and "张*" in text
    assert f.ID_A not in text and "13900000001" not in text
    summary = workbook.worksheets[1]
    assert summary.cell(row=2, column=1).value == "及时受理率"


def test_attachment_download_is_scoped(client, region_tree, district_officer):
    from django.core.files.uploadedfile import SimpleUploadedFile

    petition = f.file_letter(
        district_officer,
        region=region_tree["a1"],
        attachments=[SimpleUploadedFile("证据.pdf", b"%PDF-1.4 test", "application/pdf")],
    )
    attachment = petition.attachments.get()
    url = reverse("petitions:attachment", args=[petition.pk, attachment.pk])
    login(client, district_officer)
    response = client.get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"%PDF-1.4 test"
    login(client, f.officer("outsider", region=region_tree["street_b"]))
    assert client.get(url).status_code == 404


def test_login_required(client, region_tree):
    response = client.get(reverse("petitions:file"))
    assert response.status_code == 302 and "login" in response.url
    assert DEFAULT_PASSWORD


def test_refer_to_mediation_from_the_page(client, region_tree, district_officer):
    from mediation.models import MediationCase, MediationRoom

    room = MediationRoom.objects.create(
        name="芗城区访调对接工作室",
        room_type="petition_window",
        level="county",
        region=region_tree["district"],
    )
    petition = f.file_letter(district_officer, region=region_tree["a1"])
    login(client, district_officer)
    client.post(reverse("petitions:action", args=[petition.pk, "accept"]), {})
    page = client.get(reverse("petitions:detail", args=[petition.pk]))
    assert 'data-testid="action-refer_mediation"' in page.text and room.name in page.text
    url = reverse("petitions:action", args=[petition.pk, "refer_mediation"])
    response = client.post(url, {"refer_mediation-room": room.pk}, follow=True)
    assert "message-error" in response.text  # the other party is needed
    client.post(
        url, {"refer_mediation-room": room.pk, "refer_mediation-respondent_name": "某某餐馆"}
    )
    case = MediationCase.objects.get()
    page = client.get(reverse("petitions:detail", args=[petition.pk]))
    assert 'id="mediation-link"' in page.text and f"#{case.pk}" in page.text
