"""The events REST API: scoped lists and filters, detail with timeline and buttons, actions with
their HTTP errors, scoped photos, categories, inbox, OpenAPI schema and the offline docs page."""
import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone
from PIL import Image

from gridmap.core.models import Role, User
from gridmap.events import selectors, workflow
from gridmap.events.calendar import TZ
from gridmap.events.models import Category, Event, EventAction, EventPhoto, Notification
from gridmap.events.workflow import State
from gridmap.grids.models import Area

LIST = "/api/events/"
MONDAY_10 = dt.datetime(2026, 11, 23, 10, 0, tzinfo=TZ)
# Several tests put events at fixed dates: the whole module runs with the clock moved there.
pytestmark = pytest.mark.time_machine(MONDAY_10)


def detail(pk):
    return f"/api/events/{pk}/"


def actions(pk):
    return f"/api/events/{pk}/actions/"


def ids(response):
    assert response.status_code == 200, response.content
    return sorted(row["id"] for row in response.json()["results"])


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), "green").save(out, "JPEG")
    return out.getvalue()


# --- lists -----------------------------------------------------------------------------------

def test_lists_are_scoped_to_the_callers_area(api, staff, by_role, report):
    a = report()  # grid A
    b = report(lon=113.97)  # grid B
    assert ids(api(staff["leader_a"]).get(LIST)) == [a.pk]
    assert ids(api(staff["leader_b"]).get(LIST)) == [b.pk]
    assert ids(api(staff["community"]).get(LIST)) == sorted([a.pk, b.pk])
    assert ids(api(staff["centre"]).get(LIST)) == sorted([a.pk, b.pk])
    assert ids(api(by_role[Role.DEPARTMENT]).get(LIST)) == sorted([a.pk, b.pk])  # street-level office
    assert api().get(LIST).status_code in (401, 403)


def test_list_rows_are_compact_with_local_times(api, staff, report):
    a = report(now=MONDAY_10)
    row = api(staff["leader_a"]).get(LIST).json()["results"][0]
    assert set(row) == {"id", "number", "category", "category_name", "urgency", "status", "level", "grid", "area",
                        "department", "assignee", "reported_at", "due_at", "due_provisional", "clock", "lon", "lat", "version"}
    assert row["number"] == a.number and row["category"] == "0101" and row["assignee"] == "leader_a"
    assert row["reported_at"] == "2026-11-23T10:00:00+08:00"
    assert row["due_at"] == "2026-11-30T10:00:00+08:00"  # 5 working days


def test_filters(api, tree, staff, report):
    long_ago = dt.datetime(2025, 9, 30, 10, 0, tzinfo=TZ)
    old = report(now=long_ago)  # due 2025-10-14: red now
    fresh = report(lon=113.97)  # grid B, reported now: green
    labour = report(lon=113.97, category=Category.objects.get(code="0103"))  # community level
    yellow = report(description="快到期")
    now = timezone.now()
    Event.objects.filter(pk=yellow.pk).update(warn_at=now - dt.timedelta(hours=1), due_at=now + dt.timedelta(hours=1))
    centre = api(staff["centre"])
    everything = sorted([old.pk, fresh.pk, labour.pk, yellow.pk])

    # status, incl. several
    assert centre.post(actions(old.pk), {"action": "start"}, format="json").status_code == 403  # not a handler
    assert ids(centre.get(LIST, {"status": "handling"})) == []
    api(staff["leader_a"]).post(actions(old.pk), {"action": "start"}, format="json")
    assert ids(centre.get(LIST, {"status": "handling"})) == [old.pk]
    assert ids(centre.get(LIST + "?status=handling&status=assigned")) == everything
    # category with descendants
    assert ids(centre.get(LIST, {"category": "01"})) == everything
    assert ids(centre.get(LIST, {"category": "0103"})) == [labour.pk]
    assert ids(centre.get(LIST, {"category": "02"})) == []
    # area subtree: grid at report time or handling area
    assert ids(centre.get(LIST, {"area": tree["a"].code})) == sorted([old.pk, yellow.pk])
    assert ids(centre.get(LIST, {"area": tree["b"].code})) == sorted([fresh.pk, labour.pk])
    assert ids(centre.get(LIST, {"area": tree["street"].code})) == everything
    # time
    assert ids(centre.get(LIST, {"reported_before": "2025-10-01T00:00:00+08:00"})) == [old.pk]
    assert ids(centre.get(LIST, {"reported_after": "2026-01-01T00:00:00"})) == sorted([fresh.pk, labour.pk, yellow.pk])
    # clock and overdue
    assert ids(centre.get(LIST, {"overdue": "true"})) == [old.pk]
    assert ids(centre.get(LIST, {"overdue": "false"})) == sorted([fresh.pk, labour.pk, yellow.pk])
    assert ids(centre.get(LIST, {"clock": "red"})) == [old.pk]
    assert ids(centre.get(LIST, {"clock": "yellow"})) == [yellow.pk]
    assert ids(centre.get(LIST, {"clock": "green"})) == sorted([fresh.pk, labour.pk])
    for row in centre.get(LIST).json()["results"]:
        assert row["clock"] == selectors.clock_status(Event.objects.get(pk=row["id"]))
    # assignee
    assert ids(api(staff["leader_a"]).get(LIST, {"assignee": "me"})) == sorted([old.pk, yellow.pk])
    assert ids(api(staff["community"]).get(LIST, {"assignee": "me"})) == [labour.pk]
    assert ids(centre.get(LIST, {"assignee": "leader_b"})) == [fresh.pk]
    # bad values name the parameter
    for params, field in [({"category": "9999"}, "category"), ({"area": "nowhere"}, "area"),
                          ({"clock": "purple"}, "clock"), ({"status": "lost"}, "status"),
                          ({"reported_after": "yesterday"}, "reported_after")]:
        r = centre.get(LIST, params)
        assert r.status_code == 400 and field in r.json(), (params, r.content)


# --- detail ----------------------------------------------------------------------------------

def test_detail_has_timeline_clock_due_time_and_the_callers_buttons(api, staff, by_role, report):
    event = report(now=MONDAY_10, reporter_phone="13812345678")
    body = api(staff["leader_a"]).get(detail(event.pk)).json()
    assert body["number"] == event.number and body["status"] == State.ASSIGNED and body["clock"] == "green"
    assert body["due_at"] == "2026-11-30T10:00:00+08:00"
    assert body["assignee"] == {"username": "leader_a", "name": "leader_a"}
    assert [(r["seq"], r["action"], r["from_status"], r["to_status"]) for r in body["timeline"]] == [
        (1, "report", "", "reported"), (2, "accept", "reported", "accepted"), (3, "assign", "accepted", "assigned")]
    first, last = body["timeline"][0], body["timeline"][2]
    assert first["actor"]["username"] == "patroller" and (first["lon"], first["lat"]) == (113.92, 22.55)
    assert last["actor"] is None and last["assignee"]["username"] == "leader_a"
    assert body["reporter_phone"] == "13812345678"
    assert api(staff["worker_a"]).get(detail(event.pk)).json()["reporter_phone"] == "138****5678"
    # the buttons are the workflow table's, for every role
    for role, user in by_role.items():
        got = api(user).get(detail(event.pk)).json()["allowed_actions"]
        assert got == workflow.allowed_actions(State.ASSIGNED, {role}), role
    assert "start" in body["allowed_actions"] and "verify" not in body["allowed_actions"]


def test_an_event_outside_the_callers_area_does_not_exist(api, staff, report):
    event = report()
    assert api(staff["leader_b"]).get(detail(event.pk)).status_code == 404
    assert api(staff["leader_b"]).post(actions(event.pk), {"action": "start"}, format="json").status_code == 404
    assert api(staff["leader_a"]).get(detail(999999)).status_code == 404


# --- actions ---------------------------------------------------------------------------------

def test_an_action_answers_200_with_the_event_and_409_when_it_moved_on(api, staff, report):
    event = report()
    leader = api(staff["leader_a"])
    r = leader.post(actions(event.pk), {"action": "start", "expected_version": 0, "note": "到场", "lon": 113.921, "lat": 22.551}, format="json")
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["status"] == State.HANDLING and body["version"] == 1
    step = body["timeline"][-1]
    assert (step["action"], step["actor"]["username"], step["note"], step["lon"], step["lat"]) == ("start", "leader_a", "到场", 113.921, 22.551)
    assert "pause" in body["allowed_actions"] and "start" not in body["allowed_actions"]

    stale = leader.post(actions(event.pk), {"action": "reply", "note": "done", "expected_version": 0}, format="json")
    assert stale.status_code == 409
    assert stale.json()["status"] == State.HANDLING and stale.json()["version"] == 1
    assert stale.json()["allowed_actions"] == body["allowed_actions"]
    again = leader.post(actions(event.pk), {"action": "start"}, format="json")
    assert again.status_code == 409 and "start" in again.json()["detail"]
    assert EventAction.objects.filter(event=event).count() == 4


def test_action_errors_name_the_field_and_write_nothing(api, staff, by_role, report):
    event = report()
    leader = api(staff["leader_a"])
    assert leader.post(actions(event.pk), {"action": "start"}, format="json").status_code == 200
    before = (EventAction.objects.count(), Notification.objects.count())
    cases = [
        (leader, {"action": "pause"}, 400, "note"),
        (leader, {"action": "fly"}, 400, "action"),
        (leader, {"action": "reply", "note": "x", "lon": 113.9}, 400, "lat"),
        (leader, {"action": "reply", "note": "x", "lon": 113.9, "lat": 95}, 400, "lat"),
        (leader, {"action": "to_department", "note": "x", "department": "nope"}, 400, "department"),
        (leader, {"action": "assign", "assignee": "nobody"}, 400, "assignee"),
        (leader, {"action": "reply", "note": "x", "expected_version": "v2"}, 400, "expected_version"),
        (leader, {"action": "rate", "satisfaction": "meh"}, 400, "satisfaction"),
        (api(staff["worker_a"]), {"action": "supervise", "note": "快办"}, 403, "detail"),
        (api(by_role[Role.LEADER]), {"action": "reply", "note": "x"}, 403, "detail"),
    ]
    for client, data, code, field in cases:
        r = client.post(actions(event.pk), data, format="json")
        assert r.status_code == code and field in r.json(), (data, r.status_code, r.content)
    # a department with nobody to take it: the service's error, still a 400 naming the field
    from gridmap.events.models import Department

    Department.objects.create(code="empty", name="无人部门")
    r = api(staff["community"]).post(actions(event.pk), {"action": "to_department", "note": "x", "department": "empty"}, format="json")
    assert r.status_code == 400 and "department" in r.json()
    assert (EventAction.objects.count(), Notification.objects.count()) == before
    assert Event.objects.get(pk=event.pk).version == 1


def test_assign_by_username_and_hand_to_a_department_by_code(api, staff, by_role, report):
    event = report(lon=114.05)  # outside every grid: waits in triage
    assert event.status == State.REPORTED
    centre = api(staff["centre"])
    assert centre.post(actions(event.pk), {"action": "accept"}, format="json").json()["status"] == State.ACCEPTED
    r = centre.post(actions(event.pk), {"action": "assign", "assignee": "leader_b"}, format="json")
    assert r.status_code == 200 and r.json()["assignee"]["username"] == "leader_b"
    r = centre.post(actions(event.pk), {"action": "to_department", "note": "食品问题", "department": "market"}, format="json")
    assert r.status_code == 200 and r.json()["department"] == "market"
    assert r.json()["assignee"]["username"] == "market_handler"


# --- assign: whom the caller may name ----------------------------------------------------------

def assignees(pk):
    return f"/api/events/{pk}/assignees/"


def usernames(response):
    assert response.status_code == 200, response.content
    return {row["username"] for row in response.json()}


@pytest.fixture
def unassigned(tree, staff, report):
    """A neighbour dispute in grid A reported while the grid had no leader: accepted, waiting to be assigned."""
    Area.objects.filter(pk=tree["a"].pk).update(leader=None)
    event = report()
    Area.objects.filter(pk=tree["a"].pk).update(leader=staff["leader_a"])
    assert (event.status, event.area_id, event.assignee) == (State.ACCEPTED, tree["a"].pk, None)
    return event


def test_assignees_are_the_staff_of_the_events_grid(api, tree, staff, make_user, unassigned):
    User.objects.filter(pk=staff["worker_a"].pk).update(last_name="王", first_name="小二")
    helper = make_user("helper", Role.GRID_WORKER, tree["street"])
    tree["a"].workers.add(helper)  # named a worker of grid A, though bound to the street
    rows = api(staff["leader_a"]).get(assignees(unassigned.pk)).json()
    assert {r["username"] for r in rows} == {"leader_a", "worker_a", "helper"}  # not leader_b, community, street, patroller
    grid_a = [r["username"] for r in rows if r["area"]["code"] == tree["a"].code]
    assert grid_a == ["leader_a", "worker_a"]  # the leader first
    worker = next(r for r in rows if r["username"] == "worker_a")
    assert worker == {"id": staff["worker_a"].pk, "username": "worker_a", "name": "王小二", "role": Role.GRID_WORKER,
                      "role_label": str(Role.GRID_WORKER.label), "on_leave": False, "deputy": None,
                      "area": {"code": tree["a"].code, "name": "网格A", "level": "grid"}}
    # the community's staff and the centre get the same people for this grid's event
    assert usernames(api(staff["community"]).get(assignees(unassigned.pk))) == {"leader_a", "worker_a", "helper"}
    assert usernames(api(staff["centre"]).get(assignees(unassigned.pk))) == {"leader_a", "worker_a", "helper"}


def test_everyone_listed_is_accepted_and_no_one_else(api, staff, unassigned):
    leader = api(staff["leader_a"])
    listed = usernames(leader.get(assignees(unassigned.pk)))
    assert listed == {"leader_a", "worker_a"}
    for outsider in ("leader_b", "community", "street", "patroller", "centre"):
        r = leader.post(actions(unassigned.pk), {"action": "assign", "assignee": outsider}, format="json")
        assert r.status_code == 400 and "assignee" in r.json(), (outsider, r.content)
    assert Event.objects.get(pk=unassigned.pk).version == 0 and EventAction.objects.filter(event=unassigned).count() == 2
    for username in sorted(listed):
        savepoint = transaction.savepoint()
        r = leader.post(actions(unassigned.pk), {"action": "assign", "assignee": username, "expected_version": 0}, format="json")
        assert r.status_code == 200 and r.json()["assignee"]["username"] == username, r.content
        assert r.json()["status"] == State.ASSIGNED
        transaction.savepoint_rollback(savepoint)


def test_an_assignee_on_leave_is_listed_with_the_deputy_who_takes_it(api, tree, staff, make_user, unassigned):
    from gridmap.events.models import Leave

    deputy = make_user("deputy_a", Role.GRID_WORKER, tree["a"])
    User.objects.filter(pk=deputy.pk).update(last_name="赵", first_name="代")
    today = timezone.now().astimezone(TZ).date()
    Leave.objects.create(user=staff["leader_a"], start=today, end=today, deputy=deputy)
    community = api(staff["community"])
    rows = {r["username"]: r for r in community.get(assignees(unassigned.pk)).json()}
    assert rows["leader_a"]["on_leave"] and rows["leader_a"]["deputy"] == {"name": "赵代"}  # a name, no id or username
    assert not rows["worker_a"]["on_leave"] and rows["worker_a"]["deputy"] is None
    r = community.post(actions(unassigned.pk), {"action": "assign", "assignee": "leader_a"}, format="json")
    assert r.status_code == 200 and r.json()["assignee"]["username"] == "deputy_a"


def test_a_deputy_the_caller_may_not_assign_is_not_named(api, tree, staff, unassigned):
    from gridmap.events.models import Leave

    User.objects.filter(pk=staff["leader_b"].pk).update(last_name="钱", first_name="乙")
    today = timezone.now().astimezone(TZ).date()
    Leave.objects.create(user=staff["worker_a"], start=today, end=today, deputy=staff["leader_b"])  # grid B's leader
    # grid A's event: grid B's leader is not among whom its assigner may name, so not even by name
    rows = {r["username"]: r for r in api(staff["community"]).get(assignees(unassigned.pk)).json()}
    assert rows["worker_a"]["on_leave"] is True and rows["worker_a"]["deputy"] is None
    # the community's own event: grid B is below it, so the deputy is named (by name only)
    labour = Event.objects.get(pk=unassigned.pk)
    labour.area = tree["community"]
    labour.save()
    rows = {r["username"]: r for r in api(staff["community"]).get(assignees(labour.pk)).json()}
    assert rows["worker_a"]["on_leave"] is True and rows["worker_a"]["deputy"] == {"name": "钱乙"}


def test_assignees_stay_within_the_callers_area(api, tree, staff, report):
    labour = report(category=Category.objects.get(code="0103"))  # handled by the community
    assert labour.area_id == tree["community"].pk
    r = api(staff["community"]).get(assignees(labour.pk))
    assert usernames(r) == {"community", "leader_a", "worker_a", "leader_b"} and r["X-Truncated"] == "false"
    r = api(staff["leader_a"]).get(assignees(labour.pk))
    assert usernames(r) == {"leader_a", "worker_a"} and r["X-Truncated"] == "false"
    triage = report(lon=114.05)  # outside every area: the centre's queue, the whole district's staff
    assert (triage.area, triage.grid) == (None, None)
    assert {u.username for u in selectors.assignable(staff["centre"], triage)} == {
        "leader_a", "worker_a", "leader_b", "community", "street", "patroller"}


def test_assignees_list_two_levels_and_search_the_rest(api, tree, staff, make_user, report):
    """The list is the handling area's staff and its children's, not the whole subtree (a district's
    thousands); ?q= searches everyone the caller may assign, 50 at most; X-Truncated says when
    more could be assigned than are listed; the assign action takes any of them, listed or not."""
    centre = api(staff["centre"])
    triage = report(lon=114.05)  # the centre's queue: the district (no staff here) and its street
    r = centre.get(assignees(triage.pk))
    assert usernames(r) == {"street", "patroller"} and r["X-Truncated"] == "true"
    land = report(category=Category.objects.get(code="0105"))  # handled by the street: the street and its community
    assert land.area_id == tree["street"].pk
    r = centre.get(assignees(land.pk))
    assert usernames(r) == {"street", "patroller", "community"} and r["X-Truncated"] == "true"
    # a caller below the handling area (who sees the street's event as its reporter): their own
    # area and one level below it, all they may name
    own = report(category=Category.objects.get(code="0105"), reporter=staff["community"])
    r = api(staff["community"]).get(assignees(own.pk))
    assert usernames(r) == {"community", "leader_a", "worker_a", "leader_b"} and r["X-Truncated"] == "false"
    # the search: name or username, case-insensitive, over the whole subtree
    User.objects.filter(pk=staff["worker_a"].pk).update(last_name="王", first_name="小二")
    r = centre.get(assignees(triage.pk), {"q": "LEADER_"})
    assert usernames(r) == {"leader_a", "leader_b"} and r["X-Truncated"] == "false"
    assert usernames(centre.get(assignees(triage.pk), {"q": " 王小 "})) == {"worker_a"}
    assert usernames(centre.get(assignees(triage.pk), {"q": "nobody"})) == set()
    for i in range(52):
        make_user(f"helper{i:02}", Role.GRID_WORKER, tree["b"])
    r = centre.get(assignees(triage.pk), {"q": "helper"})
    assert r.status_code == 200 and len(r.json()) == 50 and r["X-Truncated"] == "true"
    assert [row["username"] for row in r.json()] == [f"helper{i:02}" for i in range(50)]  # a stable order
    assert centre.get(assignees(triage.pk), {"q": "x" * 51}).status_code == 400
    # not listed without a query, yet the assign action takes them: the rule is the whole subtree
    assert "worker_a" not in usernames(centre.get(assignees(triage.pk)))
    assert centre.post(actions(triage.pk), {"action": "accept"}, format="json").status_code == 200
    r = centre.post(actions(triage.pk), {"action": "assign", "assignee": "worker_a"}, format="json")
    assert r.status_code == 200 and r.json()["assignee"]["username"] == "worker_a"


def test_only_the_primary_layer_and_roles_that_handle_are_assignable(api, tree, staff, urban_layer, make_user, report):
    """Another layer's grids (城管网格) under the handling area do not count; nor does anyone whose
    role cannot start an event, even when named an area's leader or worker."""
    boss = make_user("boss", Role.LEADER, tree["community"])
    admin = make_user("admin_b", Role.CENTRE_ADMIN, tree["b"])
    dept = make_user("dept_a", Role.DEPARTMENT, tree["street"])
    Area.objects.filter(pk=tree["b"].pk).update(leader=admin)
    tree["a"].workers.add(boss, dept)
    labour = report(category=Category.objects.get(code="0103"))  # the community's: grids A and B below it
    eligible = {"community", "leader_a", "worker_a", "leader_b", "dept_a"}  # a department handler may start an event
    assert {u.username for u in selectors.assignable(staff["centre"], labour)} == eligible
    community = api(staff["community"])
    assert usernames(community.get(assignees(labour.pk))) == eligible
    assert usernames(community.get(assignees(labour.pk), {"q": "urban"})) == set()
    assert usernames(community.get(assignees(labour.pk), {"q": "城"})) == set()  # 张城北, 李城南
    community.post(actions(labour.pk), {"action": "not_ours", "note": "转回"}, format="json")  # back to accepted
    labour.refresh_from_db()
    assert labour.status == State.ACCEPTED
    for outsider in ("urban_u1", "urban_u2", "boss", "admin_b", "centre"):
        r = community.post(actions(labour.pk), {"action": "assign", "assignee": outsider}, format="json")
        assert r.status_code == 400 and "assignee" in r.json(), (outsider, r.content)


def test_assignees_need_the_event_in_scope_and_a_role_that_assigns(api, staff, by_role, unassigned):
    assert api(staff["leader_b"]).get(assignees(unassigned.pk)).status_code == 404
    assert api(staff["leader_a"]).get(assignees(999999)).status_code == 404
    assert api().get(assignees(unassigned.pk)).status_code in (401, 403)
    for role in (Role.GRID_WORKER, Role.DEPARTMENT, Role.LEADER):  # the workflow never lets them assign
        r = api(by_role[role]).get(assignees(unassigned.pk))
        assert r.status_code == 403 and "detail" in r.json(), role
        assert api(by_role[role]).post(actions(unassigned.pk), {"action": "assign", "assignee": "worker_a"}, format="json").status_code == 403


# --- photos ----------------------------------------------------------------------------------

def test_photos_are_served_only_to_who_sees_the_event(api, client, staff, report, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    event = report()
    leader = api(staff["leader_a"])
    leader.post(actions(event.pk), {"action": "start"}, format="json")
    r = leader.post(actions(event.pk), {"action": "reply", "note": "已清理", "photos": [SimpleUploadedFile("a.jpg", jpeg(), "image/jpeg")]}, format="multipart")
    assert r.status_code == 200, r.content
    url = r.json()["timeline"][-1]["photos"][0]
    assert r.json()["photos"] == [url]
    path = url.split("testserver", 1)[1]
    got = leader.get(path)
    assert got.status_code == 200 and got["Content-Type"] == "image/jpeg"
    assert b"".join(got.streaming_content)[:2] == b"\xff\xd8"
    assert api(staff["community"]).get(path).status_code == 200
    assert api(staff["leader_b"]).get(path).status_code == 404
    assert api().get(path).status_code in (401, 403)
    stored = EventPhoto.objects.get()
    assert client.get("/media/" + stored.image.name).status_code == 404  # no public media route
    other = report(lon=113.93)
    assert leader.get(f"/api/events/{other.pk}/photos/{stored.pk}/").status_code == 404  # photo of another event


def test_a_bad_photo_on_an_action_is_a_400_and_nothing_is_stored(api, staff, report):
    event = report()
    leader = api(staff["leader_a"])
    leader.post(actions(event.pk), {"action": "start"}, format="json")
    r = leader.post(actions(event.pk), {"action": "reply", "note": "x", "photos": [SimpleUploadedFile("a.jpg", b"text", "image/jpeg")]}, format="multipart")
    assert r.status_code == 400 and "photos" in r.json()
    assert not EventPhoto.objects.exists() and Event.objects.get(pk=event.pk).status == State.HANDLING


# --- categories, workflow table, inbox ---------------------------------------------------------

def test_categories_tree_with_levels_and_effective_limits(api, staff):
    client = api(staff["worker_a"])
    tree = client.get("/api/categories/").json()
    assert [c["code"] for c in tree] == ["01", "02", "03", "04", "05", "06", "07"]
    disputes = tree[0]
    assert disputes["depth"] == 0 and [c["code"] for c in disputes["children"]] == ["0101", "0102", "0103", "0104", "0105"]
    neighbour = disputes["children"][0]
    assert (neighbour["parent"], neighbour["depth"], neighbour["handling_level"], neighbour["effective_level"]) == ("01", 1, "", "grid")
    assert neighbour["time_limits"] == [
        {"urgency": "normal", "amount": 5, "unit": "workdays", "warn_at": 0.8},
        {"urgency": "urgent", "amount": 2, "unit": "workdays", "warn_at": 0.8},
        {"urgency": "critical", "amount": 24, "unit": "hours", "warn_at": 0.8}]
    labour = client.get("/api/categories/0103/").json()
    assert labour["effective_level"] == "community"
    assert {t["urgency"]: (t["amount"], t["unit"]) for t in labour["time_limits"]} == {
        "normal": (15, "workdays"), "urgent": (15, "workdays"), "critical": (15, "workdays")}  # falls back to normal
    food = client.get("/api/categories/0205/").json()
    assert food["effective_level"] == "department" and food["department"] == "market"
    assert client.get("/api/categories/9999/").status_code == 404
    Category.objects.filter(code="0102").update(active=False)
    active = client.get("/api/categories/", {"active": "true"}).json()
    assert "0102" not in [c["code"] for c in active[0]["children"]]


def test_workflow_table_endpoint_is_the_table(api, staff):
    rows = api(staff["worker_a"]).get("/api/workflow/").json()
    assert len(rows) == len(workflow.TRANSITIONS)
    assert {"state": "reported", "action": "reject", "roles": sorted(workflow.TRIAGE), "to": "rejected", "needs_note": True} in rows


def test_inbox_list_unread_count_and_mark_read(api, staff, report):
    event = report()
    report(lon=113.93)
    leader = api(staff["leader_a"])
    assert leader.get("/api/inbox/unread-count/").json() == {"unread": 2}
    rows = leader.get("/api/inbox/").json()["results"]
    assert len(rows) == 2 and not rows[0]["read"] and {r["event_number"] for r in rows} >= {event.number}
    one = rows[1]["id"]
    assert api(staff["leader_b"]).post(f"/api/inbox/{one}/read/").status_code == 404  # not theirs
    r = leader.post(f"/api/inbox/{one}/read/")
    assert r.status_code == 200 and r.json()["read"] and r.json()["read_at"].endswith("+08:00")
    assert leader.get("/api/inbox/unread-count/").json() == {"unread": 1}
    assert [r["id"] for r in leader.get("/api/inbox/", {"unread": "true"}).json()["results"]] == [rows[0]["id"]]
    assert leader.post("/api/inbox/read/", {}, format="json").json() == {"marked": 1, "unread": 0}
    assert leader.post("/api/inbox/read/", {"ids": ["x"]}, format="json").status_code == 400
    assert api(staff["leader_b"]).get("/api/inbox/").json()["results"] == []


# --- schema and docs -------------------------------------------------------------------------

def test_openapi_schema_lists_the_api(api, staff):
    r = api(staff["worker_a"]).get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert r.status_code == 200
    paths = r.json()["paths"]
    for p in ["/api/events/", "/api/events/{id}/", "/api/events/{id}/actions/", "/api/events/report/",
              "/api/events/{id}/photos/{photo_pk}/", "/api/events/{id}/assignees/", "/api/categories/", "/api/inbox/", "/api/inbox/unread-count/",
              "/api/inbox/{id}/read/", "/api/inbox/read/", "/api/workflow/"]:
        assert p in paths, p
    params = {p["name"] for p in paths["/api/events/"]["get"]["parameters"]}
    assert {"status", "category", "area", "reported_after", "reported_before", "overdue", "clock", "assignee"} <= params
    assert "409" in paths["/api/events/{id}/actions/"]["post"]["responses"]


def test_docs_page_is_served_without_a_cdn(api, staff, client):
    from django.contrib.staticfiles import finders

    r = api(staff["worker_a"]).get("/api/docs/")
    assert r.status_code == 200
    html = r.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    for cdn in ("cdn.jsdelivr", "unpkg.com", "cdnjs", "googleapis"):
        assert cdn not in html
    assert finders.find("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
