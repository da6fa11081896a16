"""Plain helpers shared by the browser tests."""


def login(page, live_server, username):
    page.goto(live_server.url + "/admin/login/?next=/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw")
    page.click("input[type=submit]")
    page.wait_for_selector("#map[data-state=ready]")
