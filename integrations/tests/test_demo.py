"""The demo partner: fixed key and secret (docs/api.md's examples), idempotent, printed."""

from __future__ import annotations

import io

import pytest

from integrations import demo, security
from integrations.models import ApiKey, Partner, ServiceAttribute

pytestmark = pytest.mark.django_db


def test_demo_partner_is_idempotent_and_its_key_works(region_tree, categories, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    data = {"city": {"code": region_tree["city"].code}}
    out = io.StringIO()
    demo.load_demo(data, out)
    demo.load_demo(data, out)
    assert Partner.objects.count() == 1 and ApiKey.objects.count() == 1
    partner = Partner.objects.get()
    assert partner.hmac_secret == demo.DEMO_HMAC_SECRET
    assert partner.region == region_tree["city"]
    key = security.api_key_lookup(demo.DEMO_API_KEY)
    assert key is not None and set(key.scopes) == {"open311-post", "hotline", "webhooks"}
    assert ServiceAttribute.objects.count() == 3
    printed = out.getvalue()
    assert demo.DEMO_API_KEY in printed and demo.DEMO_HMAC_SECRET in printed
    banner = (tmp_path / "demo_banner.txt").read_text(encoding="utf-8").splitlines()
    assert len(banner) == 2
    assert demo.DEMO_API_KEY in banner[0] and demo.DEMO_HMAC_SECRET in banner[1]
