"""The events admin: configuration edited by the centre only, events scoped and read-only,
workflow actions through services.act, API keys generated and toggled."""
import datetime as dt
import hashlib
import re

import pytest
from django.urls import reverse

from gridmap.core.models import Role
from gridmap.events import services
from gridmap.events.calendar import TZ
from gridmap.events.models import ApiKey, CalendarDay, Event, EventAction, TimeLimit
from gridmap.events.workflow import Action, State

MONDAY_10 = dt.datetime(2026, 11, 23, 10, 0, tzinfo=TZ)
# The data sit at fixed dates: the whole module runs with the clock moved there.
pytestmark = pytest.mark.time_machine(MONDAY_10)


@pytest.fixture
def events(tree, staff, dispute):
    def report(lon, lat, now=MONDAY_10):
        return services.report_event(reporter=staff["patroller"], category=dispute, lon=lon, lat=lat,
                                     description="占道堆放", channel="patrol", now=now, address="科技园路1号").event
    return {"a": report(113.92, 22.55), "b": report(113.97, 22.55), "a_old": report(113.93, 22.56, now=MONDAY_10 - dt.timedelta(days=30))}


def login(client, user):
    client.force_login(user)
    return client


def test_every_events_admin_page_opens_for_the_centre(client, staff, events):
    login(client, staff["centre"])
    for model in ["category", "calendarday", "department", "duty", "leave", "apikey", "event", "notification"]:
        r = client.get(reverse(f"admin:events_{model}_changelist"))
        assert r.status_code == 200, model
    for model in ["category", "calendarday", "department", "duty", "leave", "apikey"]:
        assert client.get(reverse(f"admin:events_{model}_add")).status_code == 200, model
    r = client.get(reverse("admin:events_event_change", args=[events["a"].pk]))
    assert r.status_code == 200


def test_centre_edits_a_category_and_its_time_limits(client, staff, dispute):
    login(client, staff["centre"])
    url = reverse("admin:events_category_change", args=[dispute.pk])
    page = client.get(url)
    assert b"time_limits-TOTAL_FORMS" in page.content
    r = client.post(url, {
        "code": "0101", "name": "邻里纠纷", "parent": dispute.parent_id, "handling_level": "community",
        "department": "", "open311": "on", "active": "on",
        "time_limits-TOTAL_FORMS": "1", "time_limits-INITIAL_FORMS": "0",
        "time_limits-0-urgency": "normal", "time_limits-0-amount": "3", "time_limits-0-unit": "workdays", "time_limits-0-warn_at": "0.5",
    })
    assert r.status_code == 302, r.content[:2000]
    dispute.refresh_from_db()
    assert dispute.handling_level == "community"
    assert TimeLimit.objects.get(category=dispute).amount == 3


def test_area_staff_and_leaders_read_configuration_but_do_not_edit_it(client, staff, dispute):
    for who in ("community", "leader_a", "worker_a"):
        login(client, staff[who])
        assert client.get(reverse("admin:events_category_changelist")).status_code == 200
        assert client.get(reverse("admin:events_category_add")).status_code == 403
        url = reverse("admin:events_category_change", args=[dispute.pk])
        assert client.get(url).status_code == 200  # view only
        before = dispute.name
        r = client.post(url, {"code": "0101", "name": "改名", "handling_level": "street"})
        assert r.status_code == 403, who
        dispute.refresh_from_db()
        assert (dispute.name, dispute.handling_level) == (before, "") or dispute.name == before
        assert client.get(reverse("admin:events_apikey_add")).status_code == 403


def test_calendar_lists_by_year_and_filters_holidays(client, staff):
    login(client, staff["centre"])
    r = client.get(reverse("admin:events_calendarday_changelist"), {"year": "2026", "is_workday__exact": "0"})
    assert r.status_code == 200
    shown = r.context["cl"].result_list
    assert shown and all(d.date.year == 2026 and not d.is_workday for d in shown)
    assert len(shown) == CalendarDay.objects.filter(date__year=2026, is_workday=False).count()


def test_api_key_is_shown_once_stored_hashed_and_toggled(client, staff, by_role, make_user):
    login(client, staff["centre"])
    r = client.post(reverse("admin:events_apikey_add"), {"name": "12345 热线", "active": "on"}, follow=True)
    [plain] = re.findall(r"<code>([^<]+)</code>", r.content.decode())  # shown once, in the message
    key = ApiKey.objects.get(name="12345 热线")
    assert len(plain) >= 40 and key.key is None
    assert plain not in (key.key_hash, key.prefix) and key.key_hash == hashlib.sha256(plain.encode()).hexdigest()
    assert plain.startswith(key.prefix) and len(key.prefix) == 6
    # never again, for any role: not on the change page, the list or the history
    superuser = make_user("root", Role.CENTRE_ADMIN, is_superuser=True)
    pages = [reverse("admin:events_apikey_change", args=[key.pk]), reverse("admin:events_apikey_changelist"),
             reverse("admin:events_apikey_history", args=[key.pk])]
    for user in [superuser, *staff.values(), *by_role.values()]:
        login(client, user)
        for page in pages:
            r = client.get(page)
            assert plain.encode() not in r.content and plain[6:12].encode() not in r.content, (user, page)
    login(client, staff["centre"])
    assert f"{key.prefix}…".encode() in client.get(pages[0]).content  # the prefix tells keys apart
    # the key works on Open311, until deactivated
    report = {"api_key": plain, "service_code": "0404", "lat": "22.55", "long": "113.92", "description": "路灯不亮"}
    assert client.post("/open311/v2/requests.json", report).status_code == 201
    changelist = reverse("admin:events_apikey_changelist")
    client.post(changelist, {"action": "deactivate", "_selected_action": [key.pk]})
    key.refresh_from_db()
    assert not key.active
    r = client.post("/open311/v2/requests.json", report)
    assert r.status_code == 403 and "Invalid api_key" in r.json()[0]["description"]
    client.post(changelist, {"action": "activate", "_selected_action": [key.pk]})
    key.refresh_from_db()
    assert key.active
    # saving the change form keeps the key
    client.post(pages[0], {"name": "12345 热线（新）", "active": "on"})
    assert ApiKey.lookup(plain).name == "12345 热线（新）"


def test_an_api_key_made_outside_the_admin_is_random_and_hashed_too(db):
    keys = [ApiKey.objects.create(name="脚本"), ApiKey.objects.create(name="空", key="")]
    plain = [k.key for k in keys]
    assert all(len(p) >= 40 for p in plain) and plain[0] != plain[1]
    assert [ApiKey.lookup(p) for p in plain] == keys
    stored = ApiKey.objects.filter(pk__in=[k.pk for k in keys]).values_list("key_hash", "prefix")
    assert all(h and h not in plain and len(h) == 64 and len(p) == 6 for h, p in stored)


def test_event_list_is_scoped_and_shows_the_clock(client, staff, events):
    url = reverse("admin:events_event_changelist")
    login(client, staff["leader_b"])
    numbers = {e.number for e in client.get(url).context["cl"].result_list}
    assert numbers == {events["b"].number}
    login(client, staff["community"])
    r = client.get(url)
    assert {e.number for e in r.context["cl"].result_list} == {e.number for e in events.values()}
    assert "#c62828" in r.content.decode()  # a_old is overdue: red
    red = client.get(url, {"clock": "red"}).context["cl"].result_list
    assert [e.number for e in red] == [events["a_old"].number]
    found = client.get(url, {"q": "科技园路"}).context["cl"].result_list
    assert len(found) == 3
    assert client.get(url, {"status__exact": "assigned", "level__exact": "grid", "channel__exact": "patrol"}).status_code == 200


def test_event_detail_is_read_only_with_its_timeline(client, staff, events):
    event = events["a"]
    login(client, staff["centre"])
    url = reverse("admin:events_event_change", args=[event.pk])
    page = client.get(url).content.decode()
    assert event.number in page and "event_point" in page  # the map
    assert 'name="status"' not in page and 'name="_save"' not in page
    assert "actions-TOTAL_FORMS" not in page or 'name="actions-0-DELETE"' not in page
    for a in event.actions.all():
        assert a.get_action_display() in page
    before = (Event.objects.get(pk=event.pk).status, EventAction.objects.count())
    r = client.post(url, {"status": "closed"})
    assert r.status_code == 403
    assert (Event.objects.get(pk=event.pk).status, EventAction.objects.count()) == before
    assert client.get(reverse("admin:events_event_delete", args=[event.pk])).status_code == 403
    assert client.get("/admin/events/eventaction/").status_code == 404  # the log has no admin of its own


def test_other_areas_event_is_not_reachable_by_url(client, staff, events):
    login(client, staff["leader_b"])
    r = client.get(reverse("admin:events_event_change", args=[events["a"].pk]))
    assert r.status_code == 302  # Django's "does not exist" redirect to the index


def test_remind_action_goes_through_the_workflow(client, staff, events):
    login(client, staff["community"])
    url = reverse("admin:events_event_changelist")
    r = client.post(url, {"action": "remind", "_selected_action": [events["a"].pk, events["b"].pk]}, follow=True)
    assert r.status_code == 200
    for key in ("a", "b"):
        log = EventAction.objects.filter(event=events[key]).order_by("-seq").first()
        assert log.action == Action.REMIND and log.actor == staff["community"]
        assert Event.objects.get(pk=events[key].pk).status == State.ASSIGNED


def test_a_worker_cannot_run_workflow_actions(client, staff, events):
    login(client, staff["worker_a"])
    url = reverse("admin:events_event_changelist")
    before = (EventAction.objects.count(), Event.objects.get(pk=events["a"].pk).level)
    form = client.get(url).context["action_form"]  # None: no action offered at all
    offered = [name for name, _label in form.fields["action"].choices] if form else []
    assert "escalate" not in offered and "remind" not in offered
    r = client.post(url, {"action": "escalate", "_selected_action": [events["a"].pk]}, follow=True)
    assert r.status_code == 200  # the list again: an action not offered is not run
    assert (EventAction.objects.count(), Event.objects.get(pk=events["a"].pk).level) == before


def test_notifications_are_read_only_and_private(client, staff, events):
    login(client, staff["leader_a"])
    url = reverse("admin:events_notification_changelist")
    shown = client.get(url).context["cl"].result_list
    assert shown and all(n.user == staff["leader_a"] for n in shown)
    assert client.get(reverse("admin:events_notification_change", args=[shown[0].pk])).status_code == 200
    assert client.post(reverse("admin:events_notification_change", args=[shown[0].pk]), {"text": "x"}).status_code == 403
