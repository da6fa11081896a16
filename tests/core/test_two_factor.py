"""Two-step sign-in (issue 11, deliverable 4; django-otp): centre administrators and leaders
(GRIDMAP_OTP_ROLES) and superusers set up an authenticator app on /account/two-step/ and get ten
one-use backup codes, shown once; the admin sign-in then asks them for a code (a missing or wrong
one counts for the lockout like a wrong password), HTTP Basic is refused them, and a session no
code verified signs them in nowhere. GRIDMAP_OTP_REQUIRED=1 sends those roles to the setup first;
the centre resets a lost phone from the user list. Codes are computed from the device's key
with django-otp's TOTP at a frozen clock; the clock moves a step on before each code is reused,
as a real one would (a code is good once)."""
import base64
import datetime as dt
import logging
import re

import pytest
from axes.models import AccessAttempt
from django.contrib.admin.models import LogEntry
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from gridmap.core import services
from gridmap.core.models import Role

from .test_csp import assert_strict, policy
from .test_login_lockout import LIMIT, admin_sign_in, basic, counting_hasher, signed_in  # noqa: F401 - a fixture

MOMENT = dt.datetime(2025, 3, 4, 10, 0, 5, tzinfo=dt.timezone(dt.timedelta(hours=8)))


@pytest.fixture(autouse=True)
def clock(time_machine):
    time_machine.move_to(MOMENT, tick=False)
    return time_machine


def next_step(clock):
    """Thirty seconds on: the app shows a new code."""
    clock.shift(dt.timedelta(seconds=30))


def code_for(key: bytes) -> str:
    totp = TOTP(key)  # the defaults every device here has: 30 s steps, 6 digits
    return f"{totp.token():06d}"


@pytest.fixture
def people(tree, make_user):
    return {"centre": make_user("centre", Role.CENTRE_ADMIN),
            "boss": make_user("boss", Role.LEADER, tree["a"]),
            "leader": make_user("leader", Role.GRID_LEADER, tree["a"]),
            "worker": make_user("worker", Role.GRID_WORKER, tree["a"])}


@pytest.fixture
def enrolled(people, clock):
    """The leader (领导) with two-step sign-in on; returns (user, device, backup codes)."""
    user = people["boss"]
    key = TOTPDevice().key
    device, codes = services.enrol_two_step(user, key, code_for(bytes.fromhex(key)))
    next_step(clock)
    return user, device, codes


def verified_client(user, device, ip="10.1.0.1") -> Client:
    client = Client()
    assert signed_in(admin_sign_in(client, user.username, "pw", ip=ip, otp_token=code_for(device.bin_key)))
    return client


def refusal(res) -> str:
    """The code of the sign-in form's error."""
    return res.context["form"].errors.as_data()["__all__"][0].code


def failures(username) -> int:
    return sum(AccessAttempt.objects.filter(username=username).values_list("failures_since_start", flat=True))


# --- setting it up ----------------------------------------------------------------------------

def test_a_centre_administrator_sets_it_up_on_the_page_and_sees_the_backup_codes_once(people, clock):
    client = Client()
    client.force_login(people["centre"])
    page = client.get("/admin/").content.decode()
    assert 'href="/account/two-step/"' in page  # the user tools link
    res = client.get("/account/two-step/")
    assert res.status_code == 200
    html = res.content.decode()
    assert re.search(r'<div data-testid="qr"><svg [^>]*class="segno"', html)  # inline SVG, no image request
    secret = re.search(r'data-testid="secret">([A-Z2-7 ]+)<', html).group(1).replace(" ", "")
    key = base64.b32decode(secret)
    assert len(key) == 20 and not TOTPDevice.objects.exists()  # nothing stored before a code confirms it
    assert client.get("/account/two-step/").content.decode().count(" ".join(re.findall("....", secret))) == 1  # same secret on reload

    res = client.post("/account/two-step/", {"code": "000000" if code_for(key) != "000000" else "111111"})
    assert res.status_code == 200 and "errorlist" in res.content.decode()
    assert not TOTPDevice.objects.exists()

    res = client.post("/account/two-step/", {"code": code_for(key)})
    assert res.status_code == 200
    codes = re.findall(r"<li><code>([a-z2-7]+)</code></li>", res.content.decode())
    assert len(codes) == 10 == len(set(codes))
    device = TOTPDevice.objects.get(user=people["centre"], confirmed=True)
    assert device.bin_key == key
    assert sorted(StaticToken.objects.filter(device__user=people["centre"]).values_list("token", flat=True)) == sorted(codes)
    # this session gave the code: it is verified, and the admin stays open
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    assert client.get("/admin/").status_code == 200
    # the codes never again
    res = client.get("/account/two-step/")
    html = res.content.decode()
    assert res.context["backup_codes_left"] == 10 and not any(c in html for c in codes) and 'data-testid="qr"' not in html


def test_the_page_has_the_strict_content_security_policy(people):
    client = Client()
    client.force_login(people["centre"])
    res = client.get("/account/two-step/")
    assert_strict(policy(res))
    html = res.content.decode()
    assert "<style" not in html
    assert all(" src=" in tag for tag in re.findall(r"<script\b[^>]*>", html))  # no inline script


@pytest.mark.parametrize("key", ["worker", "leader"])
def test_roles_outside_the_setting_cannot_set_it_up(people, key):
    client = Client()
    client.force_login(people[key])
    assert "/account/two-step/" not in client.get("/admin/").content.decode()
    assert client.get("/account/two-step/").status_code == 403
    assert client.post("/account/two-step/", {"code": "123456"}).status_code == 403
    assert not TOTPDevice.objects.exists()


def test_the_setting_names_the_roles_and_superusers_may_always(people, make_user, settings):
    settings.GRIDMAP_OTP_ROLES = ["grid_leader"]
    client = Client()
    client.force_login(people["leader"])
    assert client.get("/account/two-step/").status_code == 200
    client.force_login(people["centre"])
    assert client.get("/account/two-step/").status_code == 403
    root = make_user("root", Role.GRID_WORKER, is_superuser=True)
    client.force_login(root)
    assert client.get("/account/two-step/").status_code == 200


def test_anonymous_is_sent_to_sign_in(db):
    res = Client().get("/account/two-step/")
    assert res.status_code == 302 and res.url.startswith("/admin/login/")


# --- signing in -------------------------------------------------------------------------------

def test_signing_in_needs_the_code_and_marks_the_session_verified(enrolled):
    user, device, _codes = enrolled
    client = Client()
    res = admin_sign_in(client, "boss", "pw")  # no code
    assert res.status_code == 200 and refusal(res) == "code_required"
    assert "_auth_user_id" not in client.session
    res = admin_sign_in(client, "boss", "pw", otp_token="12345x")
    assert res.status_code == 200 and refusal(res) == "wrong_code"
    assert "_auth_user_id" not in client.session
    assert failures("boss") == 2  # both counted by django-axes
    res = admin_sign_in(client, "boss", "pw", otp_token=code_for(device.bin_key))
    assert signed_in(res)
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    res = client.get("/admin/")
    assert res.status_code == 200 and res.wsgi_request.user.is_verified()


def test_a_code_is_good_once(enrolled):
    user, device, _codes = enrolled
    code = code_for(device.bin_key)
    assert signed_in(admin_sign_in(Client(), "boss", "pw", otp_token=code))
    res = admin_sign_in(Client(), "boss", "pw", otp_token=code)
    assert res.status_code == 200 and refusal(res) == "wrong_code"  # replayed: refused


def test_ten_wrong_codes_lock_the_account(enrolled):
    user, device, _codes = enrolled
    answers = [admin_sign_in(Client(), "boss", "pw", ip="10.2.0.1", otp_token=f"{i:06d}").status_code
               for i in range(LIMIT)]
    assert answers == [200] * (LIMIT - 1) + [429]
    # the right code now, from elsewhere: locked like after ten wrong passwords
    assert admin_sign_in(Client(), "boss", "pw", ip="10.2.0.2", otp_token=code_for(device.bin_key)).status_code == 429


def test_a_wrong_password_is_refused_before_any_code(enrolled):
    user, device, _codes = enrolled
    res = admin_sign_in(Client(), "boss", "wrong", otp_token=code_for(device.bin_key))
    assert res.status_code == 200 and "_auth_user_id" not in res.wsgi_request.session
    # and the code typed with it never lands in the failure log
    assert code_for(device.bin_key) not in "".join(AccessAttempt.objects.values_list("post_data", flat=True))


def test_a_backup_code_signs_in_once(enrolled):
    user, device, codes = enrolled
    assert signed_in(admin_sign_in(Client(), "boss", "pw", otp_token=codes[3]))
    assert refusal(admin_sign_in(Client(), "boss", "pw", otp_token=codes[3])) == "wrong_code"
    assert StaticToken.objects.filter(device__user=user).count() == 9


@pytest.mark.parametrize("with_code", [True, False])
def test_one_password_hash_per_attempt_with_a_code(enrolled, counting_hasher, with_code):
    user, device, _codes = enrolled
    res = admin_sign_in(Client(), "boss", "pw", otp_token=code_for(device.bin_key) if with_code else "")
    assert signed_in(res) is with_code
    assert counting_hasher.calls == 1


def test_users_without_it_sign_in_as_before(people, enrolled):
    assert signed_in(admin_sign_in(Client(), "centre", "pw"))
    assert signed_in(admin_sign_in(Client(), "worker", "pw", otp_token=""))


# --- sessions no code verified ----------------------------------------------------------------

def test_a_session_without_the_code_opens_nothing(enrolled, estate):
    """force_login, or a session signed in before the enrolment: anonymous everywhere."""
    user, device, _codes = enrolled
    client = Client()
    client.force_login(user)
    assert client.get("/admin/").status_code == 302
    assert client.get("/admin/events/event/").status_code == 302
    assert client.get("/").status_code == 302
    assert client.get(f"/people/{estate['people']['head'].pk}/").status_code == 302
    assert client.get("/api/events/").status_code == 403
    # the same user through the code: in
    verified = verified_client(user, device)
    assert verified.get("/admin/events/event/").status_code == 200
    assert verified.get("/api/events/").status_code == 200


def test_setting_it_up_signs_out_the_users_other_sessions(people, clock):
    user = people["boss"]
    elsewhere = Client()
    elsewhere.force_login(user)
    assert elsewhere.get("/admin/").status_code == 200
    key = TOTPDevice().key
    services.enrol_two_step(user, key, code_for(bytes.fromhex(key)))
    assert elsewhere.get("/admin/").status_code == 302


# --- the API ----------------------------------------------------------------------------------

def test_http_basic_is_refused_an_enrolled_user(enrolled, people, counting_hasher):
    res = Client().get("/api/events/", HTTP_AUTHORIZATION=basic("boss", "pw"), HTTP_ACCEPT_LANGUAGE="en")
    assert res.status_code == 401 and "two-step sign-in" in res.json()["detail"]
    assert counting_hasher.calls == 0  # refused before the password is looked at
    assert failures("boss") == 0
    # others as before
    assert Client().get("/api/events/", HTTP_AUTHORIZATION=basic("centre", "pw")).status_code == 200


# --- required ---------------------------------------------------------------------------------

def test_required_sends_those_roles_to_the_setup_first(people, settings, clock):
    settings.GRIDMAP_OTP_REQUIRED = True
    client = Client()
    client.force_login(people["boss"])
    for path in ["/", "/admin/", "/admin/events/event/", "/inbox/", "/api/events/"]:
        res = client.get(path)
        assert res.status_code == 302 and res.url == "/account/two-step/", path
    assert client.get("/account/two-step/").status_code == 200
    assert client.get("/healthz").status_code == 200
    assert client.post("/admin/logout/").status_code == 200  # signs out
    # nor the API by password alone
    res = Client().get("/api/events/", HTTP_AUTHORIZATION=basic("boss", "pw"), HTTP_ACCEPT_LANGUAGE="en")
    assert res.status_code == 401 and "/account/two-step/" in res.json()["detail"]
    assert Client().get("/api/events/", HTTP_AUTHORIZATION=basic("worker", "pw")).status_code == 200
    # other roles: no change
    worker = Client()
    worker.force_login(people["worker"])
    assert worker.get("/admin/").status_code == 200
    # once set up, in
    client.force_login(people["boss"])
    html = client.get("/account/two-step/").content.decode()
    key = base64.b32decode(re.search(r'data-testid="secret">([A-Z2-7 ]+)<', html).group(1).replace(" ", ""))
    assert client.post("/account/two-step/", {"code": code_for(key)}).status_code == 200
    assert client.get("/admin/").status_code == 200


# --- turning it off, resetting ----------------------------------------------------------------

def test_the_user_turns_it_off_with_a_current_code(enrolled, clock, caplog):
    user, device, _codes = enrolled
    client = verified_client(user, device)
    next_step(clock)
    res = client.post("/account/two-step/off/", {"code": "12345x"})
    assert res.status_code == 200 and res.context["form"].errors["code"]
    assert TOTPDevice.objects.filter(user=user).exists()
    with caplog.at_level(logging.INFO, logger="gridmap.core.services"):
        res = client.post("/account/two-step/off/", {"code": code_for(device.bin_key)})
    assert res.status_code == 302 and res.url == "/account/two-step/"
    assert not TOTPDevice.objects.filter(user=user).exists() and not StaticDevice.objects.filter(user=user).exists()
    assert any("two-step sign-in off: boss, by boss" in r.getMessage() for r in caplog.records)
    assert signed_in(admin_sign_in(Client(), "boss", "pw"))  # the password alone again


def test_the_centre_resets_a_lost_phone_from_the_user_list(enrolled, people, caplog):
    user, device, _codes = enrolled
    # other roles cannot
    worker = Client()
    worker.force_login(people["worker"])
    assert worker.post("/admin/core/user/", {"action": "reset_two_step", "_selected_action": [user.pk]}).status_code == 403
    assert TOTPDevice.objects.filter(user=user).exists()
    # the centre selects the user and resets
    centre = Client(HTTP_ACCEPT_LANGUAGE="en")  # the log message is stored in the caller's language
    centre.force_login(people["centre"])
    assert "reset_two_step" in centre.get("/admin/core/user/").content.decode()
    with caplog.at_level(logging.INFO, logger="gridmap.core.services"):
        res = centre.post("/admin/core/user/", {"action": "reset_two_step", "_selected_action": [user.pk, people["worker"].pk]})
    assert res.status_code == 302
    assert not TOTPDevice.objects.filter(user=user).exists() and not StaticToken.objects.exists()
    # logged: in the user's admin history and the log
    entry = LogEntry.objects.get(object_id=str(user.pk))
    assert entry.user == people["centre"] and entry.get_change_message() == "Reset two-step sign-in"
    assert not LogEntry.objects.filter(object_id=str(people["worker"].pk)).exists()  # had none: nothing to log
    assert any("two-step sign-in off: boss, by centre" in r.getMessage() for r in caplog.records)
    assert signed_in(admin_sign_in(Client(), "boss", "pw"))


def test_the_admin_lists_no_devices(enrolled, people, make_user):
    """django-otp's device admins (every user's secret, users picked by raw id) are not offered."""
    root = make_user("root", Role.CENTRE_ADMIN, is_superuser=True)
    client = Client()
    client.force_login(root)
    assert client.get("/admin/otp_totp/totpdevice/").status_code == 404
    assert client.get("/admin/otp_static/staticdevice/").status_code == 404
    assert device_key_absent(client.get("/admin/").content, enrolled[1])


def device_key_absent(content: bytes, device) -> bool:
    return device.key.encode() not in content and base64.b32encode(device.bin_key) not in content
