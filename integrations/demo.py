"""Demo data for integrations, called by `manage.py load_demo_city` after the incidents demo:
a demo partner (the city's 12345 platform) with a FIXED API key and HMAC secret, so that the
curl examples of docs/api.md work as written against `make run`, and a few Open311 service
attributes. Idempotent: what exists is left as it is. The key and secret are printed and added
to the start banner (var/demo_banner.txt). They are public: never use them in production.
"""

from __future__ import annotations

from integrations.models import ApiKey, KeyScope, Partner, ServiceAttribute

DEMO_PARTNER_CODE = "demo12345"
DEMO_KEY_PREFIX = "demo2026"
DEMO_KEY_SECRET = "GridGov-Demo-Key-Not-For-Production"  # noqa: S105 - public demo value  # nosec B105
DEMO_API_KEY = f"gg_{DEMO_KEY_PREFIX}_{DEMO_KEY_SECRET}"
DEMO_HMAC_SECRET = "gridgov-demo-hmac-secret-not-for-production"  # noqa: S105 - public demo value  # nosec B105

DEMO_ATTRIBUTES = [
    {
        "category": "0102",
        "code": "amount",
        "description": "垃圾量",
        "description_en": "How much rubbish?",
        "datatype": ServiceAttribute.Datatype.SINGLEVALUELIST,
        "required": False,
        "order": 1,
        "values": [
            {"key": "small", "name": "少量（一袋以内）"},
            {"key": "medium", "name": "较多（一车以内）"},
            {"key": "large", "name": "大量"},
        ],
    },
    {
        "category": "0505",
        "code": "plate",
        "description": "车牌号",
        "description_en": "Licence plate",
        "datatype": ServiceAttribute.Datatype.STRING,
        "datatype_description": "例如 闽E12345",
        "required": False,
        "order": 1,
        "values": [],
    },
    {
        "category": "0602",
        "code": "pole",
        "description": "路灯杆编号",
        "description_en": "Number on the lamp post",
        "datatype": ServiceAttribute.Datatype.STRING,
        "required": False,
        "order": 1,
        "values": [],
    },
]


def _demo_partner(data: dict) -> tuple[Partner, bool]:
    from grids.models import Region

    partner = Partner.objects.filter(code=DEMO_PARTNER_CODE).first()
    if partner is not None:
        return partner, False
    city_code = (data.get("city") or {}).get("code", "")
    partner = Partner.objects.create(
        name="漳州12345热线（演示）",
        code=DEMO_PARTNER_CODE,
        kind=Partner.Kind.HOTLINE_12345,
        hmac_secret=DEMO_HMAC_SECRET,
        region=Region.objects.filter(code=city_code).first(),
        default_time_limit="5wd",
        contact="demo only",
    )
    return partner, True


def _demo_key(partner: Partner) -> bool:
    from integrations.services import api_key_create

    if ApiKey.objects.filter(prefix=DEMO_KEY_PREFIX).exists():
        return False
    api_key_create(
        partner=partner,
        name="demo",
        scopes=KeyScope.values,
        rate_limit=120,
        rate_window_seconds=60,
        fixed_prefix=DEMO_KEY_PREFIX,
        fixed_secret=DEMO_KEY_SECRET,
    )
    return True


def _demo_attributes() -> int:
    from incidents.models import Category

    created = 0
    for spec in DEMO_ATTRIBUTES:
        values = dict(spec)
        category = Category.objects.filter(code=values.pop("category")).first()
        if category is None:
            continue
        _attribute, made = ServiceAttribute.objects.get_or_create(
            category=category, code=values.pop("code"), defaults=values
        )
        created += int(made)
    return created


def load_demo(data: dict, stdout) -> None:
    """Create the demo partner, its key and the Open311 attributes (idempotent); print the
    key and secret and add them to the start banner."""
    from core.banner import demo_banner_add

    partner, partner_created = _demo_partner(data)
    key_created = _demo_key(partner)
    attributes = _demo_attributes()
    stdout.write(
        f"integrations: demo partner {partner.code} "
        f"({'created' if partner_created else 'exists'}), key "
        f"{'created' if key_created else 'exists'}, {attributes} Open311 attributes created"
    )
    stdout.write(f"integrations: demo API key     {DEMO_API_KEY}")
    stdout.write(f"integrations: demo HMAC secret {DEMO_HMAC_SECRET}")
    demo_banner_add(f"Partner API key (Open311, 12345/110 intake, webhooks): {DEMO_API_KEY}")
    demo_banner_add(
        f"Partner HMAC secret (signs intake calls, see docs/api.md): {DEMO_HMAC_SECRET}"
    )
