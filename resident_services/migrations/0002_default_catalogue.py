"""The default catalogue of 便民服务: four groups and a dozen common items (admins edit them)."""

from django.db import migrations

GROUPS = [
    ("legal", "法律服务", 10),
    ("health", "医疗健康", 20),
    ("certificates", "证明办理", 30),
    ("living", "生活服务", 40),
]

# code, group, name, handler kind, time limit (working days), reach, materials, description
ITEMS = [
    ("legal-consultation", "legal", "法律咨询", "legal_adviser", 3, "any_community",
     "身份证\n相关合同、协议或证据材料",
     "村居法律顾问解答婚姻家庭、劳动用工、邻里纠纷、合同等法律问题。"),
    ("legal-aid", "legal", "法律援助申请", "legal_adviser", 5, "any_community",
     "身份证\n经济困难证明或承诺书\n与案件有关的材料",
     "经济困难或特定群体申请法律援助,由村居法律顾问初审后转司法所。"),
    ("legal-document", "legal", "代写法律文书", "legal_adviser", 5, "own_community",
     "身份证\n事实与证据材料", "为困难群众代写起诉状、答辩状等简单法律文书。"),
    ("family-doctor-signup", "health", "家庭医生签约", "family_doctor", 3, "own_community",
     "身份证\n医保卡", "与社区家庭医生团队签约,享受基本医疗和健康管理服务。"),
    ("chronic-followup", "health", "慢病随访预约", "family_doctor", 3, "own_community",
     "身份证\n既往病历或检查报告", "高血压、糖尿病等慢性病随访与用药指导。"),
    ("elderly-health-check", "health", "老年人免费体检", "family_doctor", 10, "own_community",
     "身份证", "65周岁以上老年人每年一次免费健康体检。"),
    ("residence-certificate", "certificates", "居住证明", "community_staff", 3, "own_community",
     "身份证\n租房合同或房产证明", "为在本社区居住的居民开具居住证明。"),
    ("hardship-certificate", "certificates", "困难证明", "community_staff", 5, "own_community",
     "身份证\n户口簿\n家庭收入情况说明", "为生活困难家庭出具困难情况证明。"),
    ("elderly-allowance", "certificates", "高龄津贴申领", "community_staff", 10, "any_community",
     "身份证\n户口簿\n银行卡", "80周岁以上老年人申领高龄津贴,全市通办。"),
    ("disability-card", "certificates", "残疾人证申请", "department", 20, "any_community",
     "身份证\n户口簿\n近期免冠照片", "受理后转区残联评定,全市通办。"),
    ("home-care", "living", "居家养老服务申请", "community_staff", 5, "own_community",
     "身份证\n老人健康状况说明", "助餐、助洁、助浴等居家养老上门服务。"),
    ("repair-referral", "living", "家电维修转介", "community_staff", 2, "any_community",
     "", "社区为居民对接志愿维修队或正规维修单位。"),
]
DEPARTMENTS = {"disability-card": "区残联"}


def load(apps, schema_editor):
    group_model = apps.get_model("resident_services", "ServiceGroup")
    item_model = apps.get_model("resident_services", "ServiceItem")
    groups = {}
    for code, name, order in GROUPS:
        groups[code], _ = group_model.objects.get_or_create(
            code=code, defaults={"name": name, "order": order}
        )
    for order, (code, group, name, kind, days, reach, materials, description) in enumerate(ITEMS):
        item_model.objects.get_or_create(
            code=code,
            defaults={
                "group": groups[group],
                "name": name,
                "handler_kind": kind,
                "department": DEPARTMENTS.get(code, ""),
                "time_limit_days": days,
                "reach": reach,
                "materials": materials,
                "description": description,
                "order": order,
            },
        )


def unload(apps, schema_editor):
    item_model = apps.get_model("resident_services", "ServiceItem")
    group_model = apps.get_model("resident_services", "ServiceGroup")
    item_model.objects.filter(code__in=[item[0] for item in ITEMS], requests__isnull=True).delete()
    group_model.objects.filter(code__in=[g[0] for g in GROUPS], items__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("resident_services", "0001_initial")]

    operations = [migrations.RunPython(load, unload)]
