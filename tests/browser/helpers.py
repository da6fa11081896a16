"""Plain helpers shared by the browser tests."""


def open_page(context):
    """A page of `context` that collects the page's errors in page.errors (uncaught exceptions and
    console errors) and gives up waiting after 15 s."""
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    page.on("console", lambda msg: _console_error(page, msg))
    return page


def _console_error(page, msg):
    # The admin login page has no icon link, so the browser's own /favicon.ico probe 404s.
    if msg.type == "error" and not msg.location.get("url", "").endswith("/favicon.ico"):
        page.errors.append(f"{msg.text} ({msg.location.get('url')})")


def login(page, live_server, username):
    page.goto(live_server.url + "/admin/login/?next=/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw")
    page.click("input[type=submit]")
    page.wait_for_selector("#map[data-state=ready]")
