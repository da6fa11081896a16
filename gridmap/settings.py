"""Django settings for gridmap. Everything a deployment changes comes from the environment."""
import datetime
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

# DEBUG only when asked for (scripts/gridmap run asks: it is a local development server).
DEBUG = os.environ.get("GRIDMAP_DEBUG", "0") == "1"
# No default key in production: sessions, password resets and CSRF tokens are signed with it.
# scripts/gridmap generates one into var/secret_key and exports it for run, test and manage.
SECRET_KEY = os.environ.get("GRIDMAP_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "GRIDMAP_SECRET_KEY is not set. Set it to a long random value (50+ characters, e.g. "
            "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`), the same on every "
            "app server, or set GRIDMAP_DEBUG=1 for local development only."
        )
    SECRET_KEY = "dev-only-not-secret-gridmap-debug-key-never-use-in-production"
# Residents' ID numbers and phones are encrypted at rest (gridmap/core/crypto.py) under keys of
# their own, never the database's: GRIDMAP_FIELD_KEYS, comma-separated Fernet keys, newest first
# (the first encrypts, all decrypt), and GRIDMAP_LOOKUP_KEY for the keyed hashes that exact
# lookups use (separate, so rotating the field keys needs no rehash). scripts/gridmap keeps them
# in var/field_key and var/lookup_key. Lose them and the values are lost: back them up apart
# from the database.
GRIDMAP_FIELD_KEYS = [k.strip() for k in os.environ.get("GRIDMAP_FIELD_KEYS", "").split(",") if k.strip()]
GRIDMAP_LOOKUP_KEY = os.environ.get("GRIDMAP_LOOKUP_KEY", "")
if not (GRIDMAP_FIELD_KEYS and GRIDMAP_LOOKUP_KEY):
    if not DEBUG:
        raise ImproperlyConfigured(
            "GRIDMAP_FIELD_KEYS or GRIDMAP_LOOKUP_KEY is not set. GRIDMAP_FIELD_KEYS: one Fernet key (`python -c "
            "'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`), newest first when "
            "rotating; GRIDMAP_LOOKUP_KEY: a long random value, never changed. The same on every app server, "
            "backed up apart from the database; or set GRIDMAP_DEBUG=1 for local development only."
        )
    GRIDMAP_FIELD_KEYS = GRIDMAP_FIELD_KEYS or ["ZGV2LW9ubHktZmllbGQta2V5LW5ldmVyLWluLXByb2Q="]  # "dev-only-field-key-never-in-prod"
    GRIDMAP_LOOKUP_KEY = GRIDMAP_LOOKUP_KEY or "dev-only-lookup-key-never-use-in-production"
ALLOWED_HOSTS = os.environ.get("GRIDMAP_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")


def _env_flag(name: str, default: bool) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be 1 or 0, not {value!r}")


# Sessions end after a working day (GRIDMAP_SESSION_HOURS), cookies never readable by scripts.
SESSION_COOKIE_AGE = int(float(os.environ.get("GRIDMAP_SESSION_HOURS", "8")) * 3600)
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"  # no page of gridmap is meant to be framed
if not DEBUG:
    # Production: HTTPS only. Behind a TLS-terminating load balancer set GRIDMAP_PROXY_SSL_HEADER
    # to the header it sets (e.g. "HTTP_X_FORWARDED_PROTO=https"), else every request redirects.
    # scripts/gridmap sets GRIDMAP_SSL_REDIRECT=0: everything it serves is plain HTTP on loopback.
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = _env_flag("GRIDMAP_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("GRIDMAP_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = _env_flag("GRIDMAP_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = _env_flag("GRIDMAP_HSTS_PRELOAD", True)
    if os.environ.get("GRIDMAP_PROXY_SSL_HEADER"):
        header, _, value = os.environ["GRIDMAP_PROXY_SSL_HEADER"].partition("=")
        if not header.startswith("HTTP_") or not value:
            raise ImproperlyConfigured("GRIDMAP_PROXY_SSL_HEADER must look like HTTP_X_FORWARDED_PROTO=https")
        SECURE_PROXY_SSL_HEADER = (header, value)


# Content security policy (django-csp, csp.middleware.CSPMiddleware): scripts only from gridmap's
# own origin, the import maps of the map pages by a per-request nonce ({{ request.csp_nonce }});
# no eval, no inline event handler. Style sheets only from 'self' (no inline <style>); style
# *attributes* in markup are allowed ('unsafe-inline' for style-src-attr only): the map's layer
# and place legends (grid_layers.js, places_layers.js) and the admin's event clock dots and photo
# thumbnails colour and size elements with style="..." in HTML, which CSP judges like inline styles
# (Leaflet sets element.style from scripts, which CSP does not restrict). A style attribute runs no
# script and can load nothing from another origin under img-src/font-src below. Images
# also from data:/blob: (Leaflet's icons, the patrol page's photo previews) and from the base-map
# tile server when GRIDMAP_TILE_URL names one. The Swagger UI page gets its own policy (urls.py).
def _tile_sources(url_template: str) -> list[str]:
    """The CSP source of an XYZ URL template: https://{s}.tile.example.org/{z}/{x}/{y}.png ->
    https://*.tile.example.org (templated leftmost labels become the wildcard); none for a
    path on gridmap's own origin (/tiles/{z}/{x}/{y}.png)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url_template.strip())
    host = parts.netloc.rpartition("@")[2]
    if not host:
        return []
    if parts.scheme not in ("http", "https", ""):
        raise ImproperlyConfigured(f"GRIDMAP_TILE_URL must be an http(s) URL template, not {url_template!r}")
    labels = host.split(".")
    templated = [i for i, label in enumerate(labels) if "{" in label]
    if templated:
        if templated[-1] + 1 >= len(labels) - 1:
            raise ImproperlyConfigured(f"GRIDMAP_TILE_URL: the host {host!r} is templated too far for a CSP source")
        labels = ["*"] + labels[templated[-1] + 1:]
    return [f"{parts.scheme}://{'.'.join(labels)}" if parts.scheme else ".".join(labels)]


from csp.constants import NONCE  # noqa: E402  (the per-request nonce placeholder)

_TILE_SOURCES = _tile_sources(os.environ.get("GRIDMAP_TILE_URL", ""))
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", NONCE],
        "style-src": ["'self'"],
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:", *_TILE_SOURCES],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "worker-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.gis",
    "leaflet",
    "rest_framework",
    "rest_framework_gis",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI assets served locally: no CDN
    "axes",  # login lockout (AXES_* below)
    "django_otp",  # two-step sign-in (GRIDMAP_OTP_* below)
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "gridmap.core",
    "gridmap.grids",
    "gridmap.places",
    "gridmap.people",
    "gridmap.events",
    "gridmap.map",
    "gridmap.analytics",
    "gridmap.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",  # Content-Security-Policy (CONTENT_SECURITY_POLICY above)
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",  # request.user.is_verified(): this session gave a code
    "gridmap.core.two_factor.TwoStepMiddleware",  # an enrolled user's session without a code signs no one in
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a refused locked-out sign-in into the lockout answer
]

ROOT_URLCONF = "gridmap.urls"
WSGI_APPLICATION = "gridmap.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "web" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# The scripts export DATABASE_URL for the project-local cluster (socket under var/).
DATABASES = {
    "default": dj_database_url.config(
        default="postgis://gridmap@/gridmap?host=/tmp&port=5439", conn_max_age=60,
        # a pooled connection is pinged before reuse: no failed request after a database restart
        conn_health_checks=True,
    )
}
DATABASES["default"]["ENGINE"] = "django.contrib.gis.db.backends.postgis"
# Separate names let several test runs share one cluster.
DATABASES["default"]["TEST"] = {"NAME": os.environ.get("GRIDMAP_TEST_DB", "test_gridmap")}

AUTH_USER_MODEL = "core.User"
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out user or address before any password is hashed (django-axes).
    "gridmap.core.auth.LockoutBackend",
    # The only password check: one hash per attempt. (ModelBackend, listed second until now for
    # sessions signed in before d01a7a8, hashed every wrong password a second time; such a
    # session is now signed out and its user signs in again.)
    "gridmap.core.auth.AreaUserBackend",
]
# Lockout (django-axes): GRIDMAP_LOGIN_FAILURE_LIMIT wrong passwords lock the username (from any
# address) and, separately, the client address (for any username): the admin sign-in and HTTP
# Basic alike. The lock lifts GRIDMAP_LOGIN_COOLOFF_MINUTES after the last failure (0: only when
# centre staff delete the access attempt in the admin, or `manage.py axes_reset_username NAME`);
# failures older than that are forgotten. Every failure is kept in the admin's access failure log.
AXES_FAILURE_LIMIT = int(os.environ.get("GRIDMAP_LOGIN_FAILURE_LIMIT", "10"))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
_cooloff_minutes = float(os.environ.get("GRIDMAP_LOGIN_COOLOFF_MINUTES", "30"))
AXES_COOLOFF_TIME = datetime.timedelta(minutes=_cooloff_minutes) if _cooloff_minutes > 0 else None
AXES_RESET_ON_SUCCESS = False  # a success from an address would also clear others' failures there
AXES_ENABLE_ACCESS_FAILURE_LOG = True
# the "axes" log lines name the username and address (never a password, nor a code: a backup
# code typed with a wrong password is still unused)
AXES_SENSITIVE_PARAMETERS = ["otp_token"]
AXES_HTTP_RESPONSE_CODE = 429
# The client's address: REMOTE_ADDR, or behind a proxy the request.META header it sets (e.g.
# GRIDMAP_CLIENT_IP_HEADER=HTTP_X_REAL_IP); else every client would share the proxy's lock.
GRIDMAP_CLIENT_IP_HEADER = os.environ.get("GRIDMAP_CLIENT_IP_HEADER", "").strip()
AXES_CLIENT_IP_CALLABLE = "gridmap.core.auth.client_ip"
AXES_COOLOFF_MESSAGE = _("Too many failed sign-ins: this account or address is locked. Try again later or ask the centre to unlock it.")
AXES_PERMALOCK_MESSAGE = _("Too many failed sign-ins: this account or address is locked. Ask the centre to unlock it.")
# Two-step sign-in (django-otp, gridmap/core/two_factor.py): users of GRIDMAP_OTP_ROLES (and
# superusers) may turn on a code from an authenticator app (TOTP) plus ten one-use backup codes;
# from then on the admin sign-in asks for a code, HTTP Basic is refused them, and a session that
# gave no code signs them in nowhere. GRIDMAP_OTP_REQUIRED=1: those roles must enrol before
# anything else. Wrong codes count as failed sign-ins for the lockout above, which is the only
# throttle (django-otp's own back-off is off: one lock, one unlock).
GRIDMAP_OTP_ROLES = [r.strip() for r in os.environ.get("GRIDMAP_OTP_ROLES", "centre_admin,leader").split(",") if r.strip()]
GRIDMAP_OTP_REQUIRED = _env_flag("GRIDMAP_OTP_REQUIRED", False)
OTP_TOTP_ISSUER = os.environ.get("GRIDMAP_OTP_ISSUER", "gridmap")  # the account's name in the app
OTP_TOTP_THROTTLE_FACTOR = 0
OTP_STATIC_THROTTLE_FACTOR = 0
# Password policy for every password set through a form (admin add/change, password change).
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = os.environ.get("GRIDMAP_LANGUAGE", "zh-hans")
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "gridmap" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
# npm packages are served from web/node_modules under /static/vendor/.
STATICFILES_DIRS = [BASE_DIR / "web" / "static", ("vendor", BASE_DIR / "web" / "node_modules")]
MEDIA_ROOT = BASE_DIR / "var" / "media"
MEDIA_URL = "/media/"

LOGIN_URL = "admin:login"

# Geometry: stored in WGS84; areas/distances in a metric CRS. Default is UTM 49N, which
# covers the demo district (Shenzhen); CGCS2000 Gauss-Krüger (e.g. EPSG:4547) where configured.
STORAGE_SRID = 4326
METRIC_SRID = int(os.environ.get("GRIDMAP_METRIC_SRID", "32649"))

LEAFLET_CONFIG = {
    "DEFAULT_CENTER": (22.54, 113.94),
    "DEFAULT_ZOOM": 14,
    "MIN_ZOOM": 3,
    "MAX_ZOOM": 19,
    # No internet on many deployments: tiles only when a URL is configured.
    "TILES": [("base", os.environ["GRIDMAP_TILE_URL"], {"attribution": os.environ.get("GRIDMAP_TILE_ATTRIBUTION", "")})]
    if os.environ.get("GRIDMAP_TILE_URL")
    else [],
    "RESET_VIEW": False,
}

# The tiles' coordinate system: "wgs84" (OSM, Tianditu) or "gcj02" (Amap/Gaode-style sources; the
# map shifts the tiles so WGS84 data lines up, see web/static/gridmap/gcj02.js).
GRIDMAP_TILE_CRS = os.environ.get("GRIDMAP_TILE_CRS", "wgs84").strip().lower() or "wgs84"
if GRIDMAP_TILE_CRS not in ("wgs84", "gcj02"):
    raise ImproperlyConfigured(f"GRIDMAP_TILE_CRS must be wgs84 or gcj02, not {GRIDMAP_TILE_CRS!r}")

REST_FRAMEWORK = {
    # HTTP Basic only for users without two-step sign-in (they would skip the code)
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication",
                                       "gridmap.core.two_factor.BasicAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 100,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Event reports per signed-in user (GRIDMAP_REPORT_RATE, e.g. 60/min; "off" for none): the
    # next one answers 429 with Retry-After. Counted in the cache, i.e. per process unless CACHES
    # names a shared one.
    "DEFAULT_THROTTLE_RATES": {
        "event_report": None if os.environ.get("GRIDMAP_REPORT_RATE", "60/min").strip().lower() in ("", "0", "off", "none")
        else os.environ.get("GRIDMAP_REPORT_RATE", "60/min").strip(),
    },
}

# OpenAPI at /api/schema/, docs at /api/docs/; Swagger UI from drf-spectacular-sidecar (intranets, no CDN).
SPECTACULAR_SETTINGS = {
    "TITLE": "gridmap API",
    "DESCRIPTION": "Grid management (网格化管理): events, workflow actions, categories, inbox. "
                   "Every list is scoped to the caller's area; sign in at /admin/ (session) or use HTTP Basic.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {"EventStatusEnum": "gridmap.events.workflow.State"},
}

# Events: routing, duplicates, reopening, notifications.
GRIDMAP_COUNTY_CODE = os.environ.get("GRIDMAP_COUNTY_CODE", "440305")  # GB/T 2260, prefixes event numbers
EVENT_NEAREST_GRID_M = float(os.environ.get("GRIDMAP_EVENT_NEAREST_GRID_M", "50"))
EVENT_DUPLICATE_M = 50
EVENT_REOPEN_DAYS = int(os.environ.get("GRIDMAP_EVENT_REOPEN_DAYS", "7"))
GRIDMAP_NOTIFY_CHANNELS = ["gridmap.events.notify.log_channel"]
EVENT_PHOTO_MAX_BYTES = 10 * 1024 * 1024

# Analytics: a map layer derived from people (special groups, welfare) drops every bin or grid with
# fewer persons than this, so no one can be picked out (gridmap/analytics/heatmap.py).
GRIDMAP_MIN_PERSONS_PER_BIN = int(os.environ.get("GRIDMAP_MIN_PERSONS_PER_BIN", "5"))

# Debian 12 ships GDAL 3.6; uploaded files are read through pyogrio after a type check.
SILENCED_SYSTEM_CHECKS = ["gis.W001"]

DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
