from petitions import matching, personal_data
from petitions.models import PetitionPolicy


def test_similarity_of_the_same_matter_in_other_words():
    score = matching.text_similarity("小区楼下餐馆油烟扰民", "楼下餐馆油烟扰民，至今未整改")
    assert score >= 0.5


def test_similarity_of_different_matters_is_low():
    assert matching.text_similarity("小区楼下餐馆油烟扰民", "建筑工地拖欠农民工工资") < 0.2


def test_similarity_ignores_punctuation_and_case():
    assert matching.text_similarity("Noise, at night!", "noise at night") == 1.0
    assert matching.text_similarity("", "anything") == 0.0


def test_evaluate_explains_the_match():
    match = matching.evaluate(
        candidate_id=7,
        matched_by="id_number",
        new_text="楼下餐馆油烟扰民",
        old_text="小区楼下餐馆油烟扰民",
        same_category=True,
        same_region=False,
        policy=PetitionPolicy(),  # the defaults, without the database
    )
    assert match is not None and match.petition_id == 7
    codes = [reason["code"] for reason in match.reasons]
    assert codes == ["same_id_number", "same_category", "text_similarity"]
    assert match.reasons[-1]["threshold"] == 0.45


def test_evaluate_needs_a_stronger_text_match_across_categories():
    kwargs = {
        "candidate_id": 1,
        "matched_by": "phone",
        "new_text": "楼下餐馆油烟扰民严重",
        "old_text": "楼下餐馆噪声扰民",
        "same_region": False,
        "policy": PetitionPolicy(),
    }
    assert matching.evaluate(same_category=True, **kwargs) is not None
    assert matching.evaluate(same_category=False, **kwargs) is None


def test_resident_id_checksum():
    assert personal_data.id_number_is_valid("350602199001011235")
    assert personal_data.id_number_is_valid("11010519491231002x")  # lower-case X accepted
    assert not personal_data.id_number_is_valid("350602199001011236")  # wrong check digit
    assert not personal_data.id_number_is_valid("350602199002301234")  # 30 February
    assert not personal_data.id_number_is_valid("35060219900101123")  # 17 digits


def test_phones_mobile_or_landline():
    assert personal_data.phone_is_valid("13800000001", allow_landline=False)
    assert not personal_data.phone_is_valid("0596-2345678", allow_landline=False)
    assert personal_data.phone_is_valid("0596-2345678", allow_landline=True)
    assert personal_data.phone_is_valid("010 12345678", allow_landline=True)
    assert not personal_data.phone_is_valid("12345", allow_landline=True)


def test_lookup_keys_do_not_contain_the_value():
    key = personal_data.lookup_key("id", "350602199001011235")
    assert key.startswith("id:") and "350602199001011235" not in key
    assert key == personal_data.lookup_key("id", "350602199001011235")
    assert key != personal_data.lookup_key("phone", "350602199001011235")
