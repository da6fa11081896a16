"""The pages on a 375 px phone (issue 10): the header keeps the user's name on one line (cut with
an ellipsis, never wrapped a letter a line), and on the patrol page every field can be scrolled
into full view above the sticky send button. Screenshots go to tests/artifacts/."""
import pytest

from gridmap.core.models import Role

from .helpers import open_page

pytestmark = pytest.mark.usefixtures("transactional_db")

PHONE = {"width": 375, "height": 667}
LON, LAT = 113.9230, 22.5480  # inside grid A of the test tree

# How the name element lies: its height against one line of its own font, and how many line
# boxes its text makes (a name wrapped letter by letter makes one per letter).
NAME_BOX = """el => {
  const style = getComputedStyle(el);
  const range = document.createRange();
  range.selectNodeContents(el);
  const tops = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top)));
  const probe = document.createElement('span');
  probe.textContent = '网';
  probe.style.cssText = 'visibility:hidden;position:absolute;white-space:nowrap';
  el.appendChild(probe);
  const line = parseFloat(style.lineHeight) || probe.getBoundingClientRect().height;
  probe.remove();
  const box = el.getBoundingClientRect();
  return {height: box.height, right: box.right, line, lines: tops.size, text: el.textContent.trim(),
          overflowing: el.scrollWidth > el.clientWidth + 1, ellipsis: style.textOverflow};
}"""


@pytest.fixture
def worker(tree, make_user):
    # a long-ish name: a compound surname and a three-character given name, area grid A
    return make_user("worker_long", Role.GRID_WORKER, tree["a"], last_name="欧阳", first_name="晓明慧子")


@pytest.fixture
def phone(browser):
    context = browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale="zh-CN",
        geolocation={"longitude": LON, "latitude": LAT, "accuracy": 8}, permissions=["geolocation"],
    )
    page = open_page(context)
    yield page
    context.close()


def sign_in(page, base, next_url):
    page.goto(f"{base}/admin/login/?next={next_url}")
    page.fill("#id_username", "worker_long")
    page.fill("#id_password", "pw")
    page.click("input[type=submit]")
    page.wait_for_url(f"{base}{next_url}")


@pytest.mark.parametrize("path", ["/", "/patrol/", "/inbox/"])
def test_the_header_keeps_the_name_on_one_line(phone, live_server, worker, artifacts, path):
    sign_in(phone, live_server.url, path)
    if path == "/":
        phone.wait_for_selector("#map[data-state=ready]")
    name = phone.locator(".gm-header .gm-user-name")
    assert name.count() == 1 and name.is_visible(), "the signed-in user is named in the header"
    box = name.evaluate(NAME_BOX)
    phone.screenshot(path=str(artifacts / f"phone-header{path.strip('/').replace('/', '-') or '-map'}.png"))
    assert "欧阳" in box["text"], box
    assert box["lines"] == 1, box
    assert box["height"] <= box["line"] * 1.3, box
    assert box["right"] <= PHONE["width"], box  # not pushed off the screen either
    if box["overflowing"]:
        assert box["ellipsis"] == "ellipsis", box
    # nothing in the header is wider than the phone
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert not phone.errors


def test_no_patrol_field_hides_under_the_send_button(phone, live_server, worker, artifacts):
    sign_in(phone, live_server.url, "/patrol/")
    send = phone.locator("[data-testid=send]")
    fields = phone.locator("form#report input:not([type=hidden]), form#report select, form#report textarea")
    assert fields.count() >= 5
    for i in range(fields.count()):
        field = fields.nth(i)
        # a visually hidden control (the urgency radios, the photo input) is reached through the
        # element that shows it: its label
        target = field if field.evaluate("el => el.getBoundingClientRect().width > 2 && getComputedStyle(el).opacity !== '0'") \
            else field.locator("xpath=ancestor::label[1]")
        target.scroll_into_view_if_needed()
        # as a phone does on focus: the field is brought into view, then not covered
        target.evaluate("el => el.scrollIntoView({block: 'nearest'})")
        phone.wait_for_timeout(50)
        f, s = target.bounding_box(), send.bounding_box()
        overlap = min(f["y"] + f["height"], s["y"] + s["height"]) - max(f["y"], s["y"])
        assert overlap <= 0, (i, field.evaluate("el => el.outerHTML.slice(0, 120)"), f, s)
    # scrolled to the very bottom, the last field sits above the button too
    phone.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    phone.wait_for_timeout(50)
    last, s = phone.locator(".gm-photo-button").bounding_box(), send.bounding_box()
    assert last["y"] + last["height"] <= s["y"], (last, s)
    phone.screenshot(path=str(artifacts / "phone-patrol-bottom.png"))
    assert not phone.errors
