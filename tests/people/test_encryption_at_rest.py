"""ID numbers and phones encrypted at rest (issue 11, deliverable 3): the tables hold Fernet
tokens and keyed hashes, never the values; Python code gets the values back; exact lookups
(admin search, /api/search/) go through the hashes and are logged; a wrong key fails loudly;
a rotated key still reads old rows, and `reseal` moves them to the new key."""
import subprocess
import sys
from types import SimpleNamespace

import pytest
from cryptography.fernet import Fernet
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from gridmap.core import crypto
from gridmap.core.models import AccessLog
from gridmap.events.models import Event
from gridmap.events.services import report_event
from gridmap.people.models import Person
from gridmap.places.models import RentedDwelling
from tests.core.test_production_settings import ROOT, clean_env

PERSONS = reverse("admin:people_person_changelist")
SEARCH = reverse("map:search")
REPORTER_PHONE = "13700001234"


def raw_rows(table: str) -> str:
    """Every row of the table as PostgreSQL prints it: what a dump or a stolen disk shows."""
    with connection.cursor() as cur:
        cur.execute(f"SELECT t::text FROM {table} t")
        return "\n".join(r[0] for r in cur.fetchall())


def raw(table: str, column: str, pk: int) -> str:
    with connection.cursor() as cur:
        cur.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])
        return cur.fetchone()[0]


def test_the_tables_hold_no_id_number_or_phone_in_clear(estate, users, dispute):
    event = report_event(reporter=users["worker_a"], category=dispute, lon=113.92, lat=22.55, description="楼道堆放杂物",
                         channel="patrol", reporter_phone=REPORTER_PHONE).event
    people = list(estate["people"].values())
    persons = raw_rows("people_person")
    assert len(persons.splitlines()) == len(people)
    for p in people:
        assert p.id_number not in persons and p.id_number[:-1] not in persons
    assert "13812345678" not in persons
    assert "13900001111" not in raw_rows("places_renteddwelling")
    assert REPORTER_PHONE not in raw_rows("events_event")
    # what the ORM reads back is the value itself
    corr = estate["people"]["corr"]
    again = Person.objects.get(pk=corr.pk)
    assert (again.id_number, again.phone) == (corr.id_number, "13812345678")
    assert RentedDwelling.objects.get().landlord_phone == "13900001111"
    assert Event.objects.get(pk=event.pk).reporter_phone == REPORTER_PHONE
    # the column holds a token that the key opens, and a 64-hex keyed hash beside it
    token = raw("people_person", "id_number", corr.pk)
    assert token.startswith("gAAAA") and crypto.decrypt(token) == corr.id_number
    assert raw("people_person", "id_number_digest", corr.pk) == crypto.digest(corr.id_number, crypto.normalise_id_number)


def test_blank_phones_stay_blank_and_values_filter_only_by_their_hash(estate):
    son = estate["people"]["son"]
    son.phone = ""
    son.save()
    assert (raw("people_person", "phone", son.pk), raw("people_person", "phone_digest", son.pk)) == ("", "")
    assert Person.objects.get(pk=son.pk).phone == ""
    with pytest.raises(Exception, match="Unsupported lookup"):
        list(Person.objects.filter(id_number=son.id_number))  # a token never matches: refused, not empty
    assert list(Person.objects.filter(crypto.matches(Person, "id_number", son.id_number.lower()))) == [son]
    # a term with no digits never matches the people without a phone
    assert not Person.objects.filter(crypto.matches(Person, "phone", "no digits")).exists()


def test_a_second_person_with_the_same_id_number_is_a_form_error(estate):
    corr = estate["people"]["corr"]
    twin = Person(id_number=corr.id_number.lower(), name="张双胞", phone="")
    with pytest.raises(ValidationError) as caught:
        twin.full_clean()
    assert "id_number" in caught.value.message_dict


def test_admin_search_by_whole_id_number_or_phone_finds_and_logs(client, estate, users):
    corr = estate["people"]["corr"]
    client.force_login(users["leader_a"])
    res = client.get(PERSONS, {"q": f" {corr.id_number.lower()} "})
    assert [p.pk for p in res.context["cl"].result_list] == [corr.pk]
    assert corr.id_number in res.content.decode()  # the leader sees it in full: logged
    assert list(AccessLog.objects.values_list("object_id", "what")) == [(corr.pk, "admin search")]
    # a phone in any spacing; every person of grid A has it, none of grid B is shown
    res = client.get(PERSONS, {"q": "138-1234 5678"})
    grid_a = {p.pk for k, p in estate["people"].items() if k != "other"}
    assert {p.pk for p in res.context["cl"].result_list} == grid_a
    # a part of the number finds nothing; a name still works
    assert list(client.get(PERSONS, {"q": corr.id_number[:17]}).context["cl"].result_list) == []
    assert [p.pk for p in client.get(PERSONS, {"q": "张矫"}).context["cl"].result_list] == [corr.pk]
    # a role that sees ID numbers masked cannot search by them
    client.force_login(users["worker_a"])
    assert list(client.get(PERSONS, {"q": corr.id_number}).context["cl"].result_list) == []


def test_api_search_by_id_number_finds_the_person_through_the_hash(client, estate, users):
    corr = estate["people"]["corr"]
    client.force_login(users["leader_a"])
    body = client.get(SEARCH, {"q": corr.id_number}).json()
    assert [r["id"] for r in body["results"] if r["kind"] == "person"] == [corr.pk]
    assert AccessLog.objects.filter(object_id=corr.pk, what="search by ID number").count() == 1


def test_a_wrong_key_fails_loudly(estate, settings):
    settings.GRIDMAP_FIELD_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(crypto.WrongKey, match="GRIDMAP_FIELD_KEYS"):
        Person.objects.get(pk=estate["people"]["corr"].pk)
    settings.GRIDMAP_FIELD_KEYS = ["not a key"]
    with pytest.raises(ImproperlyConfigured, match="Fernet keys"):
        Person.objects.get(pk=estate["people"]["corr"].pk)


def test_rotation_reads_old_rows_and_reseal_moves_them_to_the_new_key(estate, settings):
    corr = estate["people"]["corr"]
    old = settings.GRIDMAP_FIELD_KEYS[0]
    new = Fernet.generate_key().decode()
    before = raw("people_person", "id_number", corr.pk)
    settings.GRIDMAP_FIELD_KEYS = [new, old]
    assert Person.objects.get(pk=corr.pk).id_number == corr.id_number  # written under the old key
    young = estate["people"]["young"]
    young.save()  # a write uses the new key
    settings.GRIDMAP_FIELD_KEYS = [old]
    with pytest.raises(crypto.WrongKey):
        Person.objects.get(pk=young.pk)
    settings.GRIDMAP_FIELD_KEYS = [new, old]
    call_command("reseal", verbosity=0)
    assert raw("people_person", "id_number", corr.pk) != before
    settings.GRIDMAP_FIELD_KEYS = [new]  # the old key dropped: everything still reads
    assert {p.pk: p.id_number for p in Person.objects.all()} == {p.pk: p.id_number for p in estate["people"].values()}
    assert RentedDwelling.objects.get().landlord_phone == "13900001111"
    # the keyed hashes did not change: lookups still find them
    assert Person.objects.get(crypto.matches(Person, "id_number", corr.id_number)).pk == corr.pk


def test_the_migration_step_encrypts_clear_rows_and_decrypts_them_back(estate):
    step = crypto.sealing("people", "Person")
    editor = SimpleNamespace(connection=connection)
    corr = estate["people"]["corr"]
    step.reverse_code(apps, editor)  # back to clear text, as before the migration
    assert raw("people_person", "id_number", corr.pk) == corr.id_number
    with connection.cursor() as cur:  # as the migration finds them: no hashes yet
        cur.execute("UPDATE people_person SET phone_digest = ''")
    step.code(apps, editor)
    assert corr.id_number not in raw_rows("people_person") and "13812345678" not in raw_rows("people_person")
    assert Person.objects.get(pk=corr.pk).id_number == corr.id_number
    assert Person.objects.filter(crypto.matches(Person, "phone", "13812345678")).count() == len(estate["people"])


def test_without_the_field_keys_and_debug_off_it_refuses_to_start():
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, capture_output=True, text=True, timeout=120,
                            env=clean_env(GRIDMAP_SECRET_KEY="x" * 50))
    assert result.returncode != 0
    assert "GRIDMAP_FIELD_KEYS or GRIDMAP_LOOKUP_KEY is not set" in result.stderr
