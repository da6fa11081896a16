"""Plain helpers shared by the browser tests."""


def new_context(browser, request, **options):
    """A browser context; when the test fixes the server's clock (pytest.mark.time_machine(moment)),
    the page's clock starts at the same moment and runs from there (Playwright's clock API)."""
    context = browser.new_context(locale="zh-CN", **options)
    marker = request.node.get_closest_marker("time_machine")
    if marker:
        context.clock.install(time=marker.args[0])
    return context


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
    if msg.type == "error":
        page.errors.append(f"{msg.text} ({msg.location.get('url')})")


def login(page, live_server, username):
    page.goto(live_server.url + "/admin/login/?next=/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw")
    page.click("input[type=submit]")
    page.wait_for_selector("#map[data-state=ready]")


def wait_data(page, selector, **data):
    """Until `selector` matches with each data-<key> attribute equal to its value."""
    page.wait_for_selector(selector + "".join(f'[data-{k}="{v}"]' for k, v in data.items()))
