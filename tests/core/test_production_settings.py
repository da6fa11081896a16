"""Production settings (issue 11): no default secret key, DEBUG off unless asked, `check --deploy`
clean of security warnings under the Dockerfile's environment, pooled connections checked before
reuse, and a health endpoint that tells anonymous callers only ok or error."""
import base64
import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings
from django.db import OperationalError, close_old_connections, connection

from gridmap.core.models import Role

ROOT = Path(__file__).resolve().parents[2]
SOCKET_ERROR = 'connection to server on socket "/srv/gridmap/var/pgrun/.s.PGSQL.5439" failed: No such file or directory'


def dockerfile_env() -> dict[str, str]:
    """The ENV lines of the Dockerfile, as the image runs with them."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    env = {}
    for line in text.splitlines():
        if line.startswith("ENV "):
            for pair in line[4:].split():
                key, _, value = pair.partition("=")
                env[key] = value
    return env


def clean_env(**extra) -> dict[str, str]:
    """This process's environment without any GRIDMAP_ setting (scripts/gridmap exports some) and
    without DJANGO_ALLOW_ASYNC_UNSAFE (the browser tests' conftest sets it; no deployment may)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDMAP_") and k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env.update(DJANGO_SETTINGS_MODULE="gridmap.settings", PYTHONWARNINGS="ignore")
    env.update(extra)
    return env


def field_keys() -> dict[str, str]:
    """The keys that encrypt ID numbers and phones (gridmap/core/crypto.py): required like the secret key."""
    return {"GRIDMAP_FIELD_KEYS": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
            "GRIDMAP_LOOKUP_KEY": secrets.token_urlsafe(50)}


def manage(*args, env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_check_deploy_has_no_security_warning_under_the_dockerfile_environment():
    env = clean_env(**dockerfile_env(), **field_keys(), GRIDMAP_SECRET_KEY=secrets.token_urlsafe(50),
                    GRIDMAP_ALLOWED_HOSTS="example.org")
    assert env["GRIDMAP_DEBUG"] == "0"
    result = manage("check", "--deploy", env=env)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    security = re.findall(r"security\.[WE]\d+", output)
    assert security == [], output
    assert "1 silenced" in output  # gis.W001 only


def test_without_a_secret_key_and_debug_off_it_refuses_to_start():
    result = manage("check", env=clean_env())
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "GRIDMAP_SECRET_KEY is not set" in result.stderr


def test_debug_is_off_unless_asked_and_a_development_key_is_fine_with_debug_on():
    code = "from django.conf import settings; print(settings.DEBUG, bool(settings.SECRET_KEY), settings.SESSION_COOKIE_SECURE)"
    off = subprocess.run([sys.executable, "-c", f"import django; django.setup(); {code}"], cwd=ROOT, capture_output=True, text=True,
                         env=clean_env(**field_keys(), GRIDMAP_SECRET_KEY=secrets.token_urlsafe(50)), timeout=60)
    assert off.stdout.split() == ["False", "True", "True"], off.stderr
    on = subprocess.run([sys.executable, "-c", f"import django; django.setup(); {code}"], cwd=ROOT, capture_output=True, text=True,
                        env=clean_env(GRIDMAP_DEBUG="1"), timeout=60)
    assert on.stdout.split() == ["True", "True", "False"], on.stderr


def test_session_and_cookie_settings():
    assert settings.SESSION_COOKIE_HTTPONLY
    assert settings.SESSION_COOKIE_AGE == 8 * 3600
    assert settings.X_FRAME_OPTIONS == "DENY"
    assert settings.SECURE_CONTENT_TYPE_NOSNIFF
    # the tests run with DEBUG off, as production does
    assert settings.SESSION_COOKIE_SECURE and settings.CSRF_COOKIE_SECURE
    assert settings.SECURE_HSTS_SECONDS >= 365 * 24 * 3600


def test_pooled_connections_are_health_checked():
    db = settings.DATABASES["default"]
    assert db["CONN_HEALTH_CHECKS"] is True
    assert db["CONN_MAX_AGE"] == 60


@pytest.mark.django_db(transaction=True)
def test_a_connection_killed_under_the_app_is_replaced_before_the_next_request():
    with connection.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        pid = cur.fetchone()[0]
    # a database restart, seen from one pooled connection: its server process is gone
    other = connection.get_new_connection(connection.get_connection_params())
    try:
        other.autocommit = True
        other.cursor().execute("SELECT pg_terminate_backend(%s)", [pid])
    finally:
        other.close()
    close_old_connections()  # what Django does at the start of every request
    with connection.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        assert cur.fetchone()[0] != pid


def broken_connection():
    broken = mock.MagicMock()
    broken.cursor.side_effect = OperationalError(SOCKET_ERROR)
    return mock.patch("gridmap.core.views.connection", broken)


@pytest.mark.django_db
def test_health_for_anonymous_callers_is_only_ok_or_error(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert json.loads(response.content) == {"status": "ok"}
    with broken_connection():
        response = client.get("/healthz")
    assert response.status_code == 503
    assert json.loads(response.content) == {"status": "error"}
    assert b"socket" not in response.content and b"pgrun" not in response.content


@pytest.mark.django_db
def test_health_details_for_the_centre_only(client, make_user):
    worker = make_user("hz_worker", Role.GRID_WORKER)  # is_staff, as every role is: no details
    client.force_login(worker)
    with broken_connection():
        response = client.get("/healthz")
    assert response.status_code == 503
    assert json.loads(response.content) == {"status": "error"}

    centre = make_user("hz_centre", Role.CENTRE_ADMIN)
    client.force_login(centre)
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok" and "database_ms" in response.json()
    with broken_connection():
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": SOCKET_ERROR}
