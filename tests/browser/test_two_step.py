"""Two-step sign-in in the browser (issue 11, deliverable 4), under the production content
security policy: a centre administrator opens the page from the admin's user tools, the QR code
draws (inline SVG), the app's code turns it on and the backup codes show; the next sign-in takes
the code. No CSP violation, no page error."""
import base64
import re

import pytest
from django_otp.oath import TOTP

from .test_csp import assert_clean, sign_in, watched  # noqa: F401 - a fixture

pytestmark = pytest.mark.usefixtures("transactional_db")
EXACT_CSP = True  # the production policy as it is: no 'unsafe-eval' for Playwright (conftest.py)


def code_for(secret: str, step: int = 0) -> str:
    totp = TOTP(base64.b32decode(secret.replace(" ", "")))
    totp.time += step * 30
    return f"{totp.token():06d}"


def test_setting_up_and_signing_in_with_the_code(live_server, watched, staff, artifacts):  # noqa: F811
    page, base = watched, live_server.url
    sign_in(page, base, "centre", next_url="/admin/")
    page.click("#user-tools a[href='/account/two-step/']")
    qr = page.locator("[data-testid=qr] svg")
    box = qr.bounding_box()
    assert box["width"] >= 120 and box["height"] == box["width"]  # drawn, square, big enough to scan
    secret = page.text_content("[data-testid=secret]")
    assert re.fullmatch(r"[A-Z2-7]{4}( [A-Z2-7]{4})+", secret)
    page.screenshot(path=str(artifacts / "two_step_setup.png"))
    assert_clean(page)

    page.fill("#id_code", code_for(secret))
    page.click("[data-testid=two-step] input[type=submit]")
    assert page.locator("[data-testid=backup-codes] li").count() == 10
    assert_clean(page)

    page.click("#logout-form button")
    page.goto(f"{base}/admin/login/?next=/admin/")
    page.fill("#id_username", "centre")
    page.fill("#id_password", "pw")
    page.fill("#id_otp_token", code_for(secret, step=1))  # the next code: the first is spent
    page.screenshot(path=str(artifacts / "two_step_sign_in.png"))
    page.click("input[type=submit]")
    page.wait_for_selector("#user-tools")
    assert page.url == f"{base}/admin/"
    assert_clean(page)
