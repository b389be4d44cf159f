"""An administrator enrols an authenticator app and signs in with it (issue 23): password, then
the enrolment page (a QR code made locally: the CSP allows it, no outside service), the code
from the app, the recovery codes shown once; next time, password then the code."""

import base64
import re
import time

import pytest
from django_otp.oath import TOTP
from playwright.sync_api import expect

from tests.builders import DEFAULT_PASSWORD, make_user


def _code(secret: str, offset: int = 0) -> str:
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    totp = TOTP(key, step=30, t0=0, digits=6, drift=0)
    totp.time = time.time() + offset
    return f"{totp.token():06d}"


@pytest.mark.browser
def test_admin_enrols_totp_and_signs_in_with_it(browser_page, live_server, settings):
    settings.TWO_FACTOR_ENFORCED = True
    page = browser_page
    make_user("cityadmin", roles=["admin"], display_name="市级管理员")

    page.goto("/accounts/login/")
    page.fill("#id_username", "cityadmin")
    page.fill("#id_password", DEFAULT_PASSWORD)
    page.click("#login-button")

    # Nothing else before the second factor: the enrolment page, with a QR code drawn here.
    expect(page).to_have_url(re.compile(r"/accounts/two-factor/enrol/"))
    expect(page.locator("h1")).to_have_text("设置两步验证")
    qr = page.locator("#totp-qr")
    expect(qr).to_be_visible()
    assert qr.get_attribute("src").startswith("data:image/svg+xml")
    assert page.evaluate("document.querySelector('#totp-qr').naturalWidth") > 0
    page.goto("/incidents/queue/")
    expect(page).to_have_url(re.compile(r"/accounts/two-factor/enrol/"))

    page.locator("details summary").click()
    secret = page.locator("#totp-secret").inner_text().strip()
    page.fill("#id_token", _code(secret))
    page.click("#enrol-button")
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    page.click("#recovery-continue")
    page.goto("/incidents/queue/")
    expect(page).to_have_url(re.compile(r"/incidents/queue/$"))

    # Sign out, sign in again: the password, then a code from the app.
    page.click("#logout-button")
    page.goto("/accounts/login/?next=/incidents/queue/")
    page.fill("#id_username", "cityadmin")
    page.fill("#id_password", DEFAULT_PASSWORD)
    page.click("#login-button")
    expect(page).to_have_url(re.compile(r"/accounts/two-factor/\?next="))
    page.fill("#id_token", "000001" if _code(secret, 30) != "000001" else "000002")
    page.click("#two-factor-button")
    expect(page.locator("#two-factor-form .errorlist")).to_be_visible()
    page.wait_for_timeout(1500)  # django-otp's throttle after a failure (1 s, then doubling)
    page.fill("#id_token", _code(secret, 30))  # the next step: the enrolment's code is spent
    page.click("#two-factor-button")
    expect(page).to_have_url(re.compile(r"/incidents/queue/$"))
    expect(page.locator("#profile-link")).to_have_text("市级管理员")
