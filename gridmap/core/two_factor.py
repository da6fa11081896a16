"""Two-step sign-in (两步验证, issue 11): after the password, a code from an authenticator app
(TOTP, django-otp) or one of ten one-use backup codes. Users of settings.GRIDMAP_OTP_ROLES and
superusers may turn it on at /account/two-step/ (core.views.two_step); GRIDMAP_OTP_REQUIRED=1
makes it a must for those roles. A user is *enrolled* once a code confirmed their app
(core.services.enrol_two_step); from then on:

- the admin sign-in (TwoStepAuthenticationForm) takes username, password and code in one form,
  one password hash; a missing or wrong code is a failed sign-in for django-axes, so codes lock
  the account like passwords do;
- a session that no code verified (signed in before the enrolment, or by the test client's
  force_login) signs them in nowhere: TwoStepMiddleware makes it anonymous for every page, the
  admin and the API alike;
- HTTP Basic, which cannot carry a code, is refused them (BasicAuthentication, 401)."""
from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.signals import user_login_failed
from django.db.models import Exists, OuterRef
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext_lazy as _
from django_otp import match_token
from drf_spectacular import authentication as spectacular_auth
from rest_framework import authentication, exceptions


def _totp_devices():
    from django_otp.plugins.otp_totp.models import TOTPDevice  # a model: not before the apps are ready

    return TOTPDevice.objects.filter(confirmed=True)


def enrolled_subquery() -> Exists:
    """EXISTS (a confirmed app of the user): core.auth loads it with the user of each request."""
    return Exists(_totp_devices().filter(user=OuterRef("pk")))


def is_enrolled(user) -> bool:
    """Has the user turned two-step sign-in on? From the user query's annotation when there."""
    if not user.is_authenticated:
        return False
    enrolled = getattr(user, "otp_enrolled", None)
    return _totp_devices().filter(user=user).exists() if enrolled is None else enrolled


def may_enrol(user) -> bool:
    return user.is_authenticated and (user.is_superuser or user.role in settings.GRIDMAP_OTP_ROLES)


def offers_two_step(user) -> bool:
    """The two-step page is for those who may turn it on, and for anyone who has (to turn it off)."""
    return may_enrol(user) or is_enrolled(user)


def must_enrol(user) -> bool:
    """Under GRIDMAP_OTP_REQUIRED: a user of those roles who has not enrolled yet."""
    return (settings.GRIDMAP_OTP_REQUIRED and user.is_authenticated and user.role in settings.GRIDMAP_OTP_ROLES
            and not is_enrolled(user))


def backup_codes_left(user) -> int:
    from django_otp.plugins.otp_static.models import StaticToken

    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


WRONG_CODE = _("Wrong or expired code. Enter the code your authenticator app shows now, or an unused backup code.")


def code_field(**kwargs) -> forms.CharField:
    return forms.CharField(label=_("Verification code"), max_length=16, widget=forms.TextInput(attrs={"autocomplete": "one-time-code"}),
                           **kwargs)


class CodeForm(forms.Form):
    """One code: from the app, or a backup code where the caller takes those."""

    code = code_field()


# --- the admin sign-in ------------------------------------------------------------------------

class TwoStepAuthenticationForm(AdminAuthenticationForm):
    """Username, password and, for an enrolled user, a code in one form (django-otp's
    OTPAdminAuthenticationForm does the same for everyone; here the code is asked of enrolled
    users only, and a wrong one is a failed sign-in for the lockout). The password is checked
    first, once, by authenticate(); the code then matches the app or an unused backup code."""

    otp_token = code_field(required=False, help_text=_("Only with two-step sign-in: the code from your "
                                                       "authenticator app, or a backup code."))
    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "code_required": _("This account uses two-step sign-in: enter the code from your authenticator app "
                           "or a backup code."),
        "wrong_code": WRONG_CODE,
    }

    def clean(self):
        cleaned = super().clean()
        user = self.get_user()
        if user is not None and is_enrolled(user):
            token = cleaned.get("otp_token") or ""
            device = match_token(user, token) if token else None
            if device is None:
                # what authenticate() sends for a wrong password: django-axes counts it and locks
                user_login_failed.send(sender=__name__, credentials={"username": user.get_username()},
                                       request=self.request)
                code = "wrong_code" if token else "code_required"
                raise forms.ValidationError(self.error_messages[code], code=code)
            user.otp_device = device  # django_otp's user_logged_in handler marks the session verified
        return cleaned


# --- every request ----------------------------------------------------------------------------

def _unless_unverified(user):
    if user.is_authenticated and not user.is_verified() and is_enrolled(user):
        user = AnonymousUser()
        user.otp_device, user.is_verified = None, lambda: False  # as OTPMiddleware equips users
    return user


def _may_skip_enrolment(path: str) -> bool:
    return path.startswith((settings.STATIC_URL, reverse("core:two-step"), reverse("admin:logout"),
                            reverse("healthz"), reverse("set_language")))


class TwoStepMiddleware:
    """After django-otp's OTPMiddleware (which tells whether a code verified the session): an
    enrolled user's session that no code verified is anonymous, lazily as Django's own user is
    (no query for a request that never looks at its user, /healthz with the database down). Under
    GRIDMAP_OTP_REQUIRED a signed-in user who must enrol is sent to the enrolment page from every
    page but that, sign-out, static files, /healthz and the language switch."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        request.user = SimpleLazyObject(lambda: _unless_unverified(user))
        auser = getattr(request, "auser", None)
        if auser is not None:
            async def verified_auser():
                return _unless_unverified(await auser())
            request.auser = verified_auser
        if settings.GRIDMAP_OTP_REQUIRED and not _may_skip_enrolment(request.path_info) and must_enrol(request.user):
            return redirect("core:two-step")
        return self.get_response(request)


# --- the API ----------------------------------------------------------------------------------

class TwoStepRequired(exceptions.APIException):
    status_code = 401
    default_detail = _("This account uses two-step sign-in, which HTTP Basic cannot carry. Sign in at /admin/ "
                       "with your code and use that session.")
    default_code = "two_step_required"


class BasicAuthentication(authentication.BasicAuthentication):
    """DRF's HTTP Basic, refused to an enrolled user before any password is hashed (so it tells
    nothing about the password either), and under GRIDMAP_OTP_REQUIRED to a user who must enrol
    first (as every page sends them to the setup)."""

    def authenticate_credentials(self, userid, password, request=None):
        if _totp_devices().filter(**{f"user__{get_user_model().USERNAME_FIELD}": userid}).exists():
            raise TwoStepRequired()
        user, auth = super().authenticate_credentials(userid, password, request)
        if must_enrol(user):
            raise TwoStepRequired(_("This account must set up two-step sign-in first, at /account/two-step/."))
        return user, auth


class BasicScheme(spectacular_auth.BasicScheme):
    """The OpenAPI schema's basicAuth for the class above (drf-spectacular matches classes exactly)."""

    target_class = "gridmap.core.two_factor.BasicAuthentication"
