"""Browser tests: Playwright's sync API drives Debian's chromium against pytest-django's live_server.

The sync API runs an event loop in the test thread, so Django's async-safety check would
refuse the test's own database calls; nothing here is really async."""
import os
from pathlib import Path

import pytest

from .helpers import new_context, open_page

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("GRIDMAP_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"


@pytest.fixture(scope="session")
def browser():
    # The README's test command runs these, never skips them: a missing part fails with its remedy.
    try:
        from playwright import sync_api
    except ImportError:
        pytest.fail("Playwright is not installed: `.venv/bin/pip install -e '.[dev]'` (scripts/gridmap does it)")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no chromium at {CHROMIUM}: `apt-get install chromium` (scripts/gridmap does it), "
                    "or set GRIDMAP_CHROMIUM to a Chromium binary")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(autouse=True)
def _session_cookies(settings):
    """Cookies that end with the browser, not at a date: a test that moves the server's clock
    (time-machine) would otherwise send cookies the real browser drops as expired."""
    settings.SESSION_EXPIRE_AT_BROWSER_CLOSE = True
    settings.CSRF_COOKIE_AGE = None


@pytest.fixture(autouse=True)
def _playwright_eval(settings, request):
    """Playwright's page.wait_for_function evaluates its predicate with eval() in the page, which
    the content security policy forbids: the browser tests run the production policy plus
    'unsafe-eval' in script-src (nonces, inline scripts, styles and sources still enforced), except
    tests/browser/test_csp.py (EXACT_CSP), which proves the pages need no eval."""
    if getattr(request.module, "EXACT_CSP", False):
        return
    policy = settings.CONTENT_SECURITY_POLICY
    directives = {**policy["DIRECTIVES"], "script-src": [*policy["DIRECTIVES"]["script-src"], "'unsafe-eval'"]}
    settings.CONTENT_SECURITY_POLICY = {**policy, "DIRECTIVES": directives}


@pytest.fixture
def page(browser, request):
    context = new_context(browser, request, viewport={"width": 1280, "height": 800})
    yield open_page(context)
    context.close()


@pytest.fixture
def phone_page(browser, request):
    """A page on a 390 × 800 touch phone."""
    context = new_context(browser, request, viewport={"width": 390, "height": 800}, is_mobile=True, has_touch=True)
    yield open_page(context)
    context.close()


@pytest.fixture
def artifacts():
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
