"""Plain views of the core app: /healthz, the two-step sign-in page."""
import time
from base64 import b32encode

import segno
from django.contrib import admin, messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe
from django_otp import login as otp_login
from django_otp import match_token
from django_otp.plugins.otp_totp.models import TOTPDevice, default_key

from gridmap.core import services
from gridmap.core.models import Role
from gridmap.core.two_factor import WRONG_CODE, CodeForm, backup_codes_left, is_enrolled, offers_two_step


def _may_see_health_details(request) -> bool:
    """Every role signs in to the admin (is_staff), so "staff" here is the centre: superusers
    and centre administrators. Sessions live in the database: when it is down no one is known,
    and everyone gets the bare status."""
    try:
        user = request.user
        return user.is_authenticated and (user.is_superuser or getattr(user, "role", None) == Role.CENTRE_ADMIN)
    except Exception:  # noqa: BLE001 - the session or user could not be read
        return False


@never_cache
@require_safe
def healthz(request):
    """GET /healthz: 200 {"status": "ok"} when the app answers and the database does (SELECT 1),
    else 503 {"status": "error"}. For load balancers and the benchmarks; no login, no data.
    The database error (which names hosts and socket paths) only for the centre's staff."""
    details = _may_see_health_details(request)
    started = time.perf_counter()
    try:
        with connection.cursor() as cur:
            cur.execute("SELECT 1")
            cur.fetchone()
    except Exception as exc:  # noqa: BLE001 - any database failure is "unhealthy"
        body = {"status": "error"}
        if details:
            body["database"] = str(exc)[:200]
        return JsonResponse(body, status=503)
    body = {"status": "ok"}
    if details:
        body["database_ms"] = round((time.perf_counter() - started) * 1000, 1)
    return JsonResponse(body)


# --- two-step sign-in (core/two_factor.py) ----------------------------------------------------

_SETUP_KEY = "two_step_setup_key"  # the secret being set up, until a code confirms it


def _two_step_page(request, **context):
    return render(request, "two_step.html", {**admin.site.each_context(request), "title": _("Two-step sign-in"),
                                             **context})


@never_cache
@login_required
def two_step(request):
    """/account/two-step/ (the admin's user tools link to it). Not on yet: GET shows a QR code of
    a new secret (kept in the session, nothing stored until a code confirms it) and a field for
    the code the app then shows; POST of the right code turns it on, lists the backup codes, this
    once, and counts this session as verified. Once on: the form to turn it off (two_step_off)."""
    user = request.user
    if not offers_two_step(user):
        raise PermissionDenied
    if is_enrolled(user):
        return _two_step_page(request, form=CodeForm(), backup_codes_left=backup_codes_left(user))
    form = CodeForm(request.POST if request.method == "POST" else None)
    key = request.session.setdefault(_SETUP_KEY, default_key())
    if form.is_valid():
        try:
            device, codes = services.enrol_two_step(user, key, form.cleaned_data["code"])
        except services.WrongCode:
            form.add_error("code", _("Wrong or expired code: enter the code your authenticator app shows now."))
        else:
            del request.session[_SETUP_KEY]
            otp_login(request, device)
            return _two_step_page(request, backup_codes=codes)
    device = TOTPDevice(user=user, key=key)  # not saved: for its otpauth:// URI
    secret = b32encode(device.bin_key).decode()
    return _two_step_page(request, form=form, secret=" ".join(secret[i:i + 4] for i in range(0, len(secret), 4)),
                          qr=mark_safe(segno.make(device.config_url, error="m").svg_inline(  # noqa: S308 - segno's own SVG
                              scale=4, light="#fff", title=_("QR code for the authenticator app"))))


@never_cache
@login_required
@require_POST
def two_step_off(request):
    """POST /account/two-step/off/ with a current code (from the app, or a backup code): two-step
    sign-in off; the next sign-in asks for the password only."""
    user = request.user
    form = CodeForm(request.POST)
    if not is_enrolled(user):
        raise PermissionDenied
    if form.is_valid() and match_token(user, form.cleaned_data["code"]) is not None:
        services.remove_two_step(user, by=user)
        messages.success(request, _("Two-step sign-in is off."))
        return redirect("core:two-step")
    form.add_error("code", WRONG_CODE)
    return _two_step_page(request, form=form, backup_codes_left=backup_codes_left(user))
