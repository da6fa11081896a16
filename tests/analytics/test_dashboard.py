"""The dashboard's figures computed by hand for a small month of events worked through the real
workflow (so the action log is real), its scoping by area and role, and its pages."""
import pytest
from django.contrib.gis.geos import Point

from gridmap.core.models import Role
from gridmap.grids import services as grid_services
from gridmap.grids.models import Level
from gridmap.people.models import Visit

from ..conftest import rect
from .dashboard_month import MOMENT, _empty_cache, api, leader_a, month, nov  # noqa: F401 (fixtures)

API = "/api/analytics/dashboard/"
pytestmark = pytest.mark.time_machine(MOMENT)


def get(api, user, **params):
    response = api(user).get(API, params)
    assert response.status_code == 200, response.content
    return response.json()


def table(data, name):
    found = {t["name"]: t for t in data["tables"]}[name]
    return {row.get("key", row.get("code")): row for row in found["rows"]}


def table_note(data, name):
    return {t["name"]: t for t in data["tables"]}[name]["note"]


def test_the_figures_of_a_month_are_those_computed_by_hand(api, tree, staff, month):
    data = get(api, staff["community"], period="2026-11")
    k = data["kpis"]
    assert (k["events"], k["closed"], k["rejected"], k["overdue_now"]) == (8, 6, 0, 1)
    assert k["accepted_on_time_pct"] == 100.0  # every report inside a grid is accepted at once
    assert k["closed_on_time_pct"] == 71.4  # 5 of 7: six closed (one late) and one open past due
    assert k["mean_hours"] == 99.5  # (6 + 24 + 12 + 480 + 48 + 27) / 6
    assert k["p90_hours"] == 264.0  # between 48 and 480, half way (linear interpolation)
    assert (k["returns"], k["reopenings"]) == (1, 1)
    assert (k["rated"], k["satisfied_pct"]) == (4, 50.0)

    settled = table(data, "settlement")
    assert {key: (r["disputes"], r["share_pct"]) for key, r in settled.items()} == {
        "grid": (3, 60.0), "community": (1, 20.0), "low": (4, 80.0), "street": (1, 20.0), "above": (0, 0.0)}
    assert [settled[k]["pattern_pct"] for k in ("low", "street", "above")] == [75, 12, 8]

    sat = table(data, "satisfaction")
    assert {k: sat[k]["events"] for k in ("very_satisfied", "satisfied", "average", "dissatisfied", "satisfied_or_better", "unrated")} == {
        "very_satisfied": 1, "satisfied": 1, "average": 1, "dissatisfied": 1, "satisfied_or_better": 2, "unrated": 4}
    assert sat["satisfied_or_better"]["share_pct"] == 50.0

    cats = table(data, "by_category")
    assert (cats["01"]["events"], cats["0101"]["events"], cats["0104"]["events"], cats["0105"]["events"], cats["06"]["events"]) == (6, 4, 1, 1, 2)
    assert cats["0101"]["parent"] == "01" and cats["06"]["parent"] == ""
    assert table(data, "by_status")["closed"]["events"] == 6
    assert table(data, "by_channel")["patrol"]["events"] == 8

    overdue = {t["name"]: t for t in data["tables"]}["overdue"]["rows"]
    assert [(r["number"], r["days_late"], r["grid"], r["due"]) for r in overdue] == [
        (month[7].number, 5, "网格A", "2026-11-26 09:00")]
    trend = {t["name"]: t for t in data["tables"]}["trend"]["rows"]
    assert len(trend) == 12 and trend[-1] == {"month": "2026-11", "events": 8, "closed": 6, "overdue_now": 1}
    assert data["boundaries"]["rule"] in table_note(data, "by_category")  # the grids here were drawn after November:
    assert data["boundaries"]["grid_versions_in_force_at_end"] == 0  # no version was in force then, and the note says so
    assert all(t["note"] for t in data["tables"]), "every table says which boundaries (or registers) it uses"


def test_a_row_per_child_area_adds_up_and_the_worst_grid_comes_first(api, tree, staff, month):
    data = get(api, staff["community"], period="2026-11")
    kids = {r["code"]: r for r in {t["name"]: t for t in data["tables"]}["children"]["rows"]}
    a, b = kids[tree["a"].code], kids[tree["b"].code]
    assert (a["events"], b["events"]) == (5, 3)
    assert (a["closed"], a["overdue_now"], a["returns"], a["closed_on_time_pct"]) == (3, 1, 1, 75.0)  # E1, E2, E4 on time; E7 late
    assert (b["closed"], b["reopenings"], b["closed_on_time_pct"], b["mean_hours"]) == (3, 1, 66.7, 29.0)  # (12 + 48 + 27) / 3
    assert a["id"] == tree["a"].pk
    worst = {t["name"]: t for t in data["tables"]}["worst"]["rows"]
    assert [r["code"] for r in worst] == [tree["b"].code, tree["a"].code]  # 66.7% < 75%

    street = get(api, staff["street"], area=tree["street"].pk, period="2026-11")
    assert [r["code"] for r in {t["name"]: t for t in street["tables"]}["children"]["rows"]] == [tree["community"].code]
    assert [c["id"] for c in street["breadcrumbs"]] == [tree["district"].pk, tree["street"].pk]


def test_a_period_from_mid_month_counts_its_own_events_and_the_trend_whole_months(api, tree, staff, month):
    """The breakdowns and the months come from one scan of the trend's months: the events before
    the period's first day count in their month's trend only."""
    data = get(api, staff["community"], **{"from": "2026-11-10", "to": "2026-11-30"})
    assert data["kpis"]["events"] == 4  # E5, E6, E7, E8
    cats = table(data, "by_category")
    assert (cats["06"]["events"], cats["0101"]["events"], cats["01"]["events"]) == (2, 2, 2)
    assert "0104" not in cats and "0105" not in cats  # E3 and E4 came before the 10th
    assert table(data, "by_channel")["patrol"]["events"] == 4
    assert table(data, "settlement")["grid"]["disputes"] == 1  # E6 only
    trend = {t["name"]: t for t in data["tables"]}["trend"]["rows"]
    assert len(trend) == 12 and trend[-1] == {"month": "2026-11", "events": 8, "closed": 6, "overdue_now": 1}


def test_acceptance_counts_the_log_and_the_reports_still_waiting(api, tree, staff, month):
    k = get(api, staff["centre"], period="2026-11")["kpis"]  # everything: the two reports outside every grid too
    assert k["events"] == 10
    assert k["accepted_on_time_pct"] == 80.0  # 8 at once; one accepted after 48 h, one still waiting after 15 days


def test_another_communitys_staff_cannot_see_these_figures(api, tree, staff, month, make_user):
    other = grid_services.create_area(code="440305005002", name="另一社区", level=Level.COMMUNITY, parent=tree["street"],
                                      boundary=rect(114.00, 22.50, 114.05, 22.60))
    stranger = make_user("other_staff", Role.AREA_STAFF, other)
    for area in (tree["community"].pk, tree["a"].code, tree["street"].pk):
        assert api(stranger).get(API, {"area": area}).status_code == 404
        assert api(stranger).get(API + "export/", {"area": area, "format": "csv"}).status_code == 404
    assert get(api, stranger, period="2026-11")["kpis"]["events"] == 0
    grid_leader = get(api, staff["leader_b"], period="2026-11")  # a grid leader: their own grid only
    assert grid_leader["kpis"]["events"] == 3 and grid_leader["area"]["id"] == tree["b"].pk
    assert api(staff["leader_b"]).get(API, {"area": tree["a"].pk}).status_code == 404
    assert api(staff["worker_a"]).get(API).status_code == 403  # workers work events; statistics are for those above


def test_population_counts_only_for_roles_that_see_sensitive_records(api, tree, staff, estate, make_user):
    corr = estate["people"]["corr"]
    for day in (5, 20):
        Visit.objects.create(worker=staff["worker_a"], visited_at=nov(day), person=corr, location=Point(113.9247, 22.5496))
    boss = make_user("boss", Role.LEADER)
    shown = get(api, staff["community"], period="2026-11")
    assert table(shown, "residence")["floating"]["events"] == 2 and table(shown, "residence")["registered"]["events"] == 9
    assert table(shown, "special_groups")["correction"]["events"] == 1
    assert table(shown, "special_groups")["youth"]["events"] == 0  # sealed (封存): never counted
    welfare = table(shown, "welfare")
    assert (welfare["dibao"]["events"], welfare["empty_nest"]["events"], welfare["disability"]["events"]) == (1, 1, 1)
    visits = table(shown, "visits")
    assert (visits["correction"]["due"], visits["correction"]["done"], visits["all"]["done_pct"]) == (1, 1, 100.0)

    hidden = api(boss).get(API, {"period": "2026-11"}, HTTP_ACCEPT_LANGUAGE="en").json()  # the note's English
    names = {t["name"] for t in hidden["tables"]}
    assert not names & {"special_groups", "welfare", "visits"}
    assert "only to roles" in {t["name"]: t for t in hidden["tables"]}["residence"]["note"]


def test_bad_parameters_name_the_field(api, staff):
    response = api(staff["centre"]).get(API, {"period": "2026-13"})
    assert response.status_code == 400 and "period" in response.json()


def test_the_page_draws_from_the_api_and_links_the_reports(client, tree, staff):
    client.force_login(staff["community"])
    page = client.get("/analytics/dashboard/", {"period": "2026-11"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "gridmap/dashboard.js" in html and "vendor/echarts/dist/echarts.min.js" in html
    assert f"/analytics/report/map/?area={tree['community'].pk}&amp;period=2026-11" in html
    assert 'data-testid="current-area">科技园社区' in html
    client.force_login(staff["worker_a"])
    assert client.get("/analytics/dashboard/").status_code == 403
    client.force_login(staff["community"])
    assert client.get("/analytics/dashboard/", {"period": "soon"}).status_code == 400
    assert client.get("/analytics/dashboard/", {"area": "999999"}).status_code == 404


def test_the_monthly_report_prints_last_month_with_its_boundaries(client, tree, staff, month):
    client.force_login(staff["community"])
    page = client.get("/analytics/report/", {"area": tree["community"].pk})
    assert page.status_code == 200
    html = page.content.decode()
    assert "2026-11" in html and "gridmap/analytics_print.css" in html and 'data-testid="print"' in html
    assert "2026-12-01T10:0" in html  # generated at, Asia/Shanghai
    assert month[7].number in html  # the overdue list
    assert "Events are counted in the grid they were reported in" in html or "网格" in html
