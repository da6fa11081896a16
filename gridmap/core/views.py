"""Plain views of the core app."""
import time

from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from gridmap.core.models import Role


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
