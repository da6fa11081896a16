"""The sensitive-access log (issue 11, deliverable 3): every list, search hit and page that shows
an ID number, phone, welfare or special-group record in full writes one row per record shown
(who, when, from where, which fields), a page in one INSERT; masked views write none; the log is
append-only in the database; the auditor browses it and sees nothing else."""
from io import StringIO

import pytest
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from gridmap.core import services
from gridmap.core.models import AccessLog, Role

PERSONS = reverse("admin:people_person_changelist")
LOGS = reverse("admin:core_accesslog_changelist")
SEARCH = reverse("map:search")
IP = "203.0.113.7"


def person_rows(**kw):
    return AccessLog.objects.filter(model="people.person", **kw)


def test_person_list_logs_one_row_per_person_shown_in_one_insert(client, estate, users):
    leader = users["leader_a"]
    client.force_login(leader)
    with CaptureQueriesContext(connection) as ctx:
        res = client.get(PERSONS, REMOTE_ADDR=IP)
    assert res.status_code == 200
    shown = {p.pk for p in res.context["cl"].result_list}
    grid_a = {p.pk for k, p in estate["people"].items() if k != "other"}
    assert shown == grid_a and len(shown) == 10
    assert estate["people"]["corr"].id_number in res.content.decode()  # the leader sees full IDs
    rows = person_rows(user=leader)
    assert sorted(rows.values_list("object_id", flat=True)) == sorted(shown)  # one row per person, none of grid B
    assert set(rows.values_list("ip", "fields", "what")) == {(IP, "id_number,phone", "admin list")}
    inserts = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith('INSERT INTO "core_accesslog"')]
    assert len(inserts) == 1  # set-based: the page's rows in one statement


def test_proxy_header_gives_the_client_ip(client, estate, users, settings):
    settings.GRIDMAP_CLIENT_IP_HEADER = "HTTP_X_REAL_IP"
    client.force_login(users["leader_a"])
    client.get(reverse("admin:people_person_change", args=[estate["people"]["corr"].pk]),
               REMOTE_ADDR="10.0.0.1", HTTP_X_REAL_IP="2001:db8::5")
    (row,) = person_rows(user=users["leader_a"])
    assert (row.ip, row.object_id, row.what) == ("2001:db8::5", estate["people"]["corr"].pk, "admin change view")
    assert row.fields == "id_number,phone,welfare,special_groups"


def test_admin_search_by_id_logs_the_person_found(client, estate, users):
    corr = estate["people"]["corr"]
    client.force_login(users["leader_a"])
    res = client.get(PERSONS, {"q": corr.id_number}, REMOTE_ADDR=IP)
    assert [p.pk for p in res.context["cl"].result_list] == [corr.pk]
    assert list(person_rows().values_list("user", "object_id", "what", "ip")) == [
        (users["leader_a"].pk, corr.pk, "admin search", IP)]


def test_api_search_by_id_logs_the_person_returned(client, estate, users):
    corr = estate["people"]["corr"]
    client.force_login(users["leader_a"])
    body = client.get(SEARCH, {"q": corr.id_number}, REMOTE_ADDR=IP).json()
    assert [r["id"] for r in body["results"] if r["kind"] == "person"] == [corr.pk]
    assert list(person_rows().values_list("user", "object_id", "fields", "what", "ip")) == [
        (users["leader_a"].pk, corr.pk, "id_number", "search by ID number", IP)]
    # a name search shows masked IDs only: no row; an ID of another grid finds nothing: no row
    client.get(SEARCH, {"q": "张矫"})
    client.get(SEARCH, {"q": estate["people"]["other"].id_number})
    assert person_rows().count() == 1


def test_a_masked_role_writes_no_row(client, estate, users):
    worker = users["worker_a"]
    client.force_login(worker)
    res = client.get(PERSONS)
    html = res.content.decode()
    assert len(res.context["cl"].result_list) == 10
    assert estate["people"]["corr"].id_number not in html and "13812345678" not in html
    assert client.get(reverse("admin:people_person_change", args=[estate["people"]["corr"].pk])).status_code == 200
    client.get(reverse("admin:people_welfarerecord_changelist"))
    client.get(SEARCH, {"q": "张矫"})
    assert not AccessLog.objects.filter(user=worker).exists()


def test_welfare_and_special_group_lists_are_logged_against_the_person(client, estate, users):
    leader = users["leader_a"]
    client.force_login(leader)
    client.get(reverse("admin:people_specialgrouprecord_changelist"))
    assert list(person_rows(user=leader, fields="special_groups").values_list("object_id", flat=True)) == [
        estate["people"]["corr"].pk]  # the sealed record of the son is not shown to a grid leader
    client.get(reverse("admin:people_welfarerecord_changelist"))
    assert set(person_rows(user=leader, fields="welfare").values_list("object_id", flat=True)) == {
        estate["people"][k].pk for k in ("poor", "nest1", "dis")}


def test_export_is_logged_without_a_user(db):
    row = services.log_export(None, "people.person", 42)
    row.refresh_from_db()
    assert (row.user_id, row.object_id, row.ip, row.what, row.fields) == (None, None, None, "export persons: 42 rows",
                                                                          "id_number,phone")


def test_export_data_of_people_writes_a_row_and_of_buildings_none(estate, tmp_path):
    from django.core.management import call_command

    from gridmap.people.models import Person

    call_command("export_data", "buildings", str(tmp_path / "b.csv"), stdout=StringIO())
    assert not AccessLog.objects.exists()
    call_command("export_data", "persons", str(tmp_path / "p.csv"), stdout=StringIO())
    row = AccessLog.objects.get()
    n = Person.objects.count()
    assert (row.user_id, row.model, row.what) == (None, "people.person", f"export persons: {n} rows")


# --- append-only, in the database ---------------------------------------------------------------

@pytest.fixture
def logged(users):
    return services.log_sensitive_view(users["leader_a"], users["leader_a"], "test", fields="phone")


@pytest.mark.parametrize("attempt", [
    lambda row: AccessLog.objects.filter(pk=row.pk).update(what="edited"),
    lambda row: AccessLog.objects.filter(pk=row.pk).delete(),
    lambda row: row.save(),  # an UPDATE: the row has a pk
    lambda row: row.delete(),
    lambda row: connection.cursor().execute("UPDATE core_accesslog SET ip = '10.0.0.1' WHERE id = %s", [row.pk]),
    lambda row: connection.cursor().execute("DELETE FROM core_accesslog WHERE id = %s", [row.pk]),
    lambda row: connection.cursor().execute("UPDATE core_accesslog SET user_id = NULL"),
], ids=["orm update", "orm queryset delete", "orm save", "orm delete", "sql update", "sql delete", "sql update all"])
def test_update_and_delete_are_refused_by_the_database(logged, attempt):
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic():
            attempt(logged)
    logged_again = AccessLog.objects.get(pk=logged.pk)
    assert (logged_again.what, logged_again.ip, logged_again.user_id) == ("test", None, logged.user_id)


def test_the_trigger_covers_every_role(db):
    with connection.cursor() as cur:
        cur.execute("""SELECT tgtype FROM pg_trigger WHERE tgrelid = 'core_accesslog'::regclass
                       AND tgname = 'core_accesslog_append_only' AND tgenabled = 'O'""")
        (tgtype,) = cur.fetchone()
    # BEFORE (2) | UPDATE (16) | DELETE (8), statement level (no ROW bit 1): fires for any role
    assert tgtype & 0b11011 == 2 | 8 | 16 and not tgtype & 1


def test_truncate_still_empties_the_table_between_transactional_tests(transactional_db, make_user):
    """TRUNCATE is not blocked: Django's flush after this test empties core_accesslog with it
    (a BEFORE TRUNCATE trigger would fail this test's teardown and every transactional test's)."""
    services.log_sensitive_view(make_user("t", Role.GRID_LEADER), make_user("u", Role.GRID_LEADER), "committed")
    assert AccessLog.objects.count() == 1


# --- the auditor ---------------------------------------------------------------------------------

@pytest.fixture
def auditor(make_user):
    return make_user("auditor", Role.AUDITOR)


def test_auditor_browses_the_log_and_nothing_else(client, estate, users, auditor):
    client.force_login(users["leader_a"])
    client.get(PERSONS, REMOTE_ADDR=IP)
    client.force_login(auditor)
    res = client.get(LOGS)
    assert res.status_code == 200
    assert res.context["cl"].result_count == 10
    html = res.content.decode()
    assert IP in html
    # filters by user, record type, date and IP, and a search by client address
    assert client.get(LOGS, {"user__id__exact": users["leader_a"].pk}).context["cl"].result_count == 10
    assert client.get(LOGS, {"model": "people.person"}).context["cl"].result_count == 10
    assert client.get(LOGS, {"ip": IP}).context["cl"].result_count == 10
    assert client.get(LOGS, {"ip": "10.9.9.9"}).context["cl"].result_count == 0
    assert client.get(LOGS, {"q": IP}).context["cl"].result_count == 10
    assert client.get(LOGS, {"q": "not-a-number"}).status_code == 200
    row = AccessLog.objects.first()
    local_year = timezone.localtime(row.at).year  # the admin's date filter counts in Asia/Shanghai, not UTC
    assert client.get(LOGS, {"at__year": local_year}).context["cl"].result_count == 10
    # read only
    change = client.get(reverse("admin:core_accesslog_change", args=[row.pk]))
    assert change.status_code == 200 and not change.context["has_change_permission"]
    assert client.post(reverse("admin:core_accesslog_delete", args=[row.pk]), {"post": "yes"}).status_code == 403
    assert AccessLog.objects.count() == 10  # viewing the log writes no row
    # nothing else: not the registers, not the users
    for url in [PERSONS, reverse("admin:people_person_change", args=[estate["people"]["corr"].pk]),
                reverse("admin:people_welfarerecord_changelist"), reverse("admin:core_user_changelist"),
                reverse("admin:places_building_changelist")]:
        assert client.get(url).status_code == 403, url
    index = client.get(reverse("admin:index"))
    assert [m["object_name"] for app in index.context["app_list"] for m in app["models"]] == ["AccessLog"]


def test_only_the_auditor_and_the_centre_see_the_log(client, estate, users, auditor):
    services.log_sensitive_view(users["leader_a"], estate["people"]["corr"], "test")
    client.force_login(users["centre"])
    assert client.get(LOGS).context["cl"].result_count == 1
    for role in ("leader_a", "worker_a", "leader_b"):
        client.force_login(users[role])
        assert client.get(LOGS).status_code == 403, role
