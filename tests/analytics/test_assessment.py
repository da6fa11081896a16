"""Assessment (考核) of November 2026, computed by hand for a small fixture: seven events built
through the event services (so the action log is real), a special-group record due two visits and
one visited; the clock frozen in December so November is a closed month."""
import csv
import datetime as dt
import io

import pytest
from django.utils import translation
from django.apps import apps as django_apps
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from openpyxl import load_workbook

from gridmap.analytics import assessment, periods
from gridmap.analytics.models import AssessmentScheme, AssessmentWeights
from gridmap.analytics.selection import Selection
from gridmap.events import services
from gridmap.events.calendar import TZ
from gridmap.people.models import SpecialGroupRecord, Visit

NOW = dt.datetime(2026, 12, 5, 10, 0, tzinfo=TZ)
pytestmark = pytest.mark.time_machine(NOW)
NOVEMBER = periods.month(2026, 11)


def at(day, hour, minute=0):
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=TZ)


@pytest.fixture(autouse=True)
def _fresh(db):
    """No answer cached by another test; the default scheme back if a transactional test flushed it."""
    cache.clear()
    from importlib import import_module
    import_module("gridmap.analytics.migrations.0002_default_scheme").seed(django_apps, None)


@pytest.fixture
def leader_a(staff):
    return staff["leader_a"]  # the estate's grid A leader is the staff's


@pytest.fixture
def month(staff, estate, dispute):
    """E1–E3 in grid A (handled by leader_a), E4–E7 in grid B (leader_b); reports by worker_a
    (E1, E2, E5) and the patroller (E3, E4, E6, E7); events outside November to be left out."""
    s = staff
    a, b = (113.92, 22.55), (113.97, 22.55)

    def report(who, where, when):
        return services.report_event(reporter=s[who], category=dispute, lon=where[0], lat=where[1],
                                     description="楼道堆放杂物", channel="patrol", now=when).event.pk

    def act(pk, action, who, when, **kw):
        services.act(pk, action, s[who] if who else None, now=when, **kw)

    e1 = report("worker_a", a, at(2, 9))
    act(e1, "start", "leader_a", at(2, 10))  # signed after 1 h
    act(e1, "reply", "leader_a", at(3, 11), note="已清理")
    act(e1, "verify", "community", at(3, 12))  # 27 h, on time
    act(e1, "rate", "worker_a", at(4, 9), satisfaction="very_satisfied")
    e2 = report("worker_a", a, at(2, 9))
    act(e2, "start", "leader_a", at(4, 9))  # signed after 48 h: late
    act(e2, "reply", "leader_a", at(5, 10), note="已处理")
    act(e2, "return", "community", at(5, 11), note="未处理完")
    act(e2, "reply", "leader_a", at(6, 10), note="已处理完")
    act(e2, "verify", "community", at(6, 12))  # 99 h, on time (due 9 November), once returned
    act(e2, "rate", "worker_a", at(7, 9), satisfaction="dissatisfied")
    e3 = report("patroller", a, at(10, 9))
    act(e3, "start", "leader_a", at(10, 11))
    act(e3, "reply", "leader_a", at(30, 11), note="已处理")
    act(e3, "verify", "community", at(30, 12))  # 483 h, closed after its due time (17 November)
    report("patroller", b, at(10, 9))  # E4: never signed for, open past due
    e5 = report("worker_a", b, at(12, 9))
    act(e5, "start", "leader_b", at(12, 10))
    act(e5, "reply", "leader_b", at(12, 15), note="已处理")
    act(e5, "verify", "community", at(12, 16))
    act(e5, "rate", "worker_a", at(13, 9), satisfaction="satisfied")
    report("patroller", b, at(16, 9))  # E6, E7: never signed for, open past due
    report("patroller", b, at(16, 9))
    report("worker_a", a, dt.datetime(2026, 10, 31, 23, 0, tzinfo=TZ))  # October: not counted
    report("worker_a", a, dt.datetime(2026, 12, 1, 0, 0, tzinfo=TZ))  # December: not counted
    # visits: the correction record (leader_a's, every 15 days: 2 due, 1 done); the youth record (nobody's, 1 due)
    corr = estate["people"]["corr"]
    SpecialGroupRecord.objects.filter(person=corr).update(responsible=s["leader_a"], visit_every_days=15)
    Visit.objects.create(worker=s["leader_a"], person=corr, visited_at=at(15, 10))
    Visit.objects.create(worker=s["leader_a"], person=corr, visited_at=dt.datetime(2026, 10, 20, 10, 0, tzinfo=TZ))  # not November
    return s


def rows_of(answer, table="ranking"):
    found = next(t for t in answer["tables"] if t["name"] == table)
    return {r["code"]: r for r in found["rows"]}, [r["code"] for r in found["rows"]]


def run(unit, area=None, scheme=None):
    return assessment.ranking(Selection(area, NOVEMBER), unit, scheme or assessment.scheme_for(NOVEMBER))


def test_worker_scores_by_hand(month):
    rows, order = rows_of(run("worker"))
    assert order == ["patroller", "worker_a", "leader_b", "leader_a"]  # best first
    assert [rows[c]["rank"] for c in order] == [1, 2, 3, 4]
    a = rows["leader_a"]
    assert {k: a[k] for k in ("reports", "handled", "accepted_on_time", "closed_on_time", "handling_hours", "overdue",
                              "returns", "reopens", "right_first_time", "satisfaction", "rated", "visits_done", "visits_due")} == {
        "reports": 0, "handled": 3, "accepted_on_time": 66.7, "closed_on_time": 66.7, "handling_hours": 203.0, "overdue": 1,
        "returns": 1, "reopens": 0, "right_first_time": 66.7, "satisfaction": 50.0, "rated": 2, "visits_done": 1, "visits_due": 2}
    # results = mean(0/4 reports, 2/3 signed, 2/3 closed, 1/2 visits) = 0.4583 × 40; skills 2/3 × 10; satisfaction 1/2 × 50
    assert (a["results_points"], a["skills_points"], a["satisfaction_points"], a["out_of"], a["score"]) == (18.33, 6.67, 25.0, 100, 50.0)
    assert a["yellow_card"]
    w = rows["worker_a"]  # 3 reports of 4; handles nothing: only work results count, scaled to 100
    assert (w["reports"], w["handled"], w["results_points"], w["skills_points"], w["out_of"], w["score"]) == (3, 0, 30.0, None, 40, 75.0)
    b = rows["leader_b"]  # 1 of 4 signed and closed on time, 3 overdue, the one rated satisfied
    assert (b["accepted_on_time"], b["closed_on_time"], b["overdue"], b["satisfaction"], b["visits_due"], b["score"]) == (
        25.0, 25.0, 3, 100.0, 0, 66.7)
    assert rows["patroller"]["reports"] == 4 and rows["patroller"]["score"] == 100.0 and not rows["patroller"]["yellow_card"]


def test_areas_by_hand(month, tree):
    rows, order = rows_of(run("grid"))
    assert order == [tree["b"].code, tree["a"].code]
    a = rows[tree["a"].code]  # results mean(2/3, 2/3, visits 1/3) × 40 + 2/3 × 10 + 1/2 × 50
    assert (a["reports"], a["visits_done"], a["visits_due"], a["results_points"], a["score"]) == (3, 1, 3, 22.22, 53.9)
    assert rows[tree["b"].code]["score"] == 70.0
    for level in ("community", "street"):  # results mean(3/7, 3/7, 1/3) × 40 + 3/4 × 10 + 2/3 × 50
        (row,) = rows_of(run(level))[0].values()
        assert (row["reports"], row["accepted_on_time"], row["closed_on_time"], row["right_first_time"], row["score"]) == (
            7, 42.9, 42.9, 75.0, 56.7)


def test_needs_attention_lists_yellow_cards_worst_first(month):
    _rows, order = rows_of(run("worker"), "attention")
    assert order == ["leader_a", "leader_b", "worker_a"]


def test_departments_without_records_have_no_score(month):
    rows, _order = rows_of(run("department"))
    assert rows and all(r["score"] is None and r["rank"] is None and not r["yellow_card"] for r in rows.values())


def test_weights_must_add_up_to_100(db):
    scheme = AssessmentScheme.objects.create(name="试行", effective_from=dt.date(2027, 1, 1))
    with translation.override("en"), pytest.raises(ValidationError, match="add up to 100"):
        AssessmentWeights(scheme=scheme, unit="grid", results=40, skills=10, satisfaction=40).full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        AssessmentWeights.objects.create(scheme=scheme, unit="grid", results=50, skills=10, satisfaction=50)
    AssessmentWeights(scheme=scheme, unit="grid", results=60, skills=0, satisfaction=40).full_clean()


def test_default_scheme_is_seeded(db):
    scheme = assessment.scheme_for(NOVEMBER)
    assert scheme.pk and (scheme.report_target, scheme.sign_within_hours, scheme.yellow_card_below) == (4, 24, 80)
    assert scheme.weights_for("worker") == (40, 10, 50)


def test_a_changed_scheme_changes_the_scores(month, client):
    client.force_login(month["centre"])
    url = "/api/analytics/assessment/?level=worker&period=2026-11"
    before = rows_of(client.get(url).json())[0]
    assert before["worker_a"]["score"] == 75.0
    scheme = AssessmentScheme.objects.create(name="只看实绩", effective_from=dt.date(2026, 11, 1), report_target=2, yellow_card_below=60)
    AssessmentWeights.objects.create(scheme=scheme, unit="worker", results=100, skills=0, satisfaction=0)
    rows, _order = rows_of(client.get(url).json())  # not the cached answer of the old scheme
    assert rows["worker_a"]["score"] == 100.0  # 3 reports of 2: capped
    assert rows["leader_a"]["score"] == 45.8 and rows["leader_a"]["yellow_card"]  # 0.4583 × 100
    assert rows["leader_b"]["score"] == 16.7
    assert not rows["worker_a"]["yellow_card"]
    assert rows_of(client.get(url.replace("2026-11", "2026-10")).json())[0]["worker_a"]["score"] == 25.0  # October: the old scheme, 1 report of 4


def test_scoped_to_the_users_area(month, client, tree):
    client.force_login(month["community"])
    rows, _order = rows_of(client.get("/api/analytics/assessment/?period=2026-11").json())
    assert set(rows) == {"leader_a", "worker_a", "leader_b"}  # the patroller works for the street
    client.force_login(month["leader_a"])
    answer = client.get("/api/analytics/assessment/?period=2026-11").json()
    rows, _order = rows_of(answer)
    assert set(rows) == {"leader_a", "worker_a"}
    assert rows["worker_a"]["reports"] == 2  # E5 was in grid B
    assert client.get(f"/api/analytics/assessment/?period=2026-11&area={tree['b'].pk}").status_code == 404
    assert client.get(f"/api/analytics/assessment/export/?period=2026-11&area={tree['b'].code}&format=csv").status_code == 404
    grids = rows_of(client.get("/api/analytics/assessment/?period=2026-11&level=grid").json())[0]
    assert set(grids) == {tree["a"].code}
    assert rows_of(client.get("/api/analytics/assessment/?period=2026-11&level=street").json())[0] == {}  # above their grid: none
    client.force_login(month["worker_a"])
    assert client.get("/api/analytics/assessment/").status_code == 403
    assert client.get("/analytics/assessment/").status_code == 403


@pytest.mark.parametrize("query, field", [("level=county", "level"), ("period=2026-Q3", "period"), ("period=nonsense", "period"),
                                          ("from=2026-11-01&to=2026-11-15", "period")])
def test_bad_parameters_name_the_field(month, client, query, field):
    client.force_login(month["centre"])
    response = client.get(f"/api/analytics/assessment/?{query}")
    assert response.status_code == 400 and field in response.json()
    assert client.get(f"/api/analytics/assessment/export/?{query}&format=csv").status_code == 400
    assert client.get(f"/analytics/assessment/?{query}").status_code == 400


def test_export_format_is_checked(month, client):
    client.force_login(month["centre"])
    response = client.get("/api/analytics/assessment/export/?period=2026-11&format=pdf")
    assert response.status_code == 400 and "format" in response.json()


def test_exports_hold_the_same_numbers(month, client):
    client.force_login(month["centre"])
    query = "level=worker&period=2026-11"
    answer = client.get(f"/api/analytics/assessment/?{query}").json()
    rows, order = rows_of(answer)
    label = {c["key"]: c["label"] for c in answer["tables"][0]["columns"]}  # in the request's language, as the file's
    response = client.get(f"/api/analytics/assessment/export/?{query}&format=csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    header = lines[1]  # two tables: each under a line of its title and note
    ranking = lines[2:2 + len(order)]
    assert [r[header.index(label["code"])] for r in ranking] == order
    assert [float(r[header.index(label["score"])]) for r in ranking] == [rows[c]["score"] for c in order]
    response = client.get(f"/api/analytics/assessment/export/?{query}&format=xlsx")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    sheet = book.worksheets[0]
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    header = values[2]  # title, note, column labels
    table = {r[header.index(label["code"])]: r for r in values[3:3 + len(order)]}
    for code in order:
        for key in ("score", "reports", "accepted_on_time", "results_points", "visits_due"):
            assert table[code][header.index(label[key])] == rows[code][key]
    attention = [list(r) for r in book.worksheets[1].iter_rows(values_only=True)]
    assert [r[1] for r in attention[3:]] == ["leader_a", "leader_b", "worker_a"]


def test_page_shows_ranking_scheme_and_exports(month, client):
    client.force_login(month["centre"])
    response = client.get("/analytics/assessment/?period=2026-11&level=worker")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="table-ranking"' in html and 'class="gm-yellow" data-code="leader_a"' in html
    assert 'data-code="patroller"' in html and html.index('data-code="patroller"') < html.index('data-code="leader_a"')
    assert "/api/analytics/assessment/export/?period=2026-11&amp;level=worker&amp;format=xlsx" in html
    assert html.count("<dt>") == len(assessment.DEFINITIONS)  # every figure defined on the page
    assert "<script" not in html.split("</head>")[1]  # no inline script (strict CSP)
    assert client.get("/analytics/assessment/?period=2026-11&level=grid").status_code == 200


def test_schemes_are_the_centres_in_the_admin(month, client):
    client.force_login(month["centre"])
    assert client.get("/admin/analytics/assessmentscheme/").status_code == 200
    scheme = AssessmentScheme.objects.get(effective_from=dt.date(2000, 1, 1))
    page = client.get(f"/admin/analytics/assessmentscheme/{scheme.pk}/change/")
    assert page.status_code == 200 and "weights" in page.content.decode()
    client.force_login(month["community"])
    assert client.get("/admin/analytics/assessmentscheme/").status_code == 403
