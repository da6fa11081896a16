import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from gridmap.core.validators import (
    id_check_char, parse_citizen_id, uscc_check_char, validate_credit_code,
)


@pytest.fixture(autouse=True)
def _english():
    """The messages are matched in English (the zh-hans catalogue translates them)."""
    with translation.override("en"):
        yield


def test_published_id_example_parses():
    # The example number printed in GB 11643-1999.
    cid = parse_citizen_id("11010519491231002x")
    assert cid.number == "11010519491231002X"
    assert cid.birth_date == dt.date(1949, 12, 31)
    assert cid.sex == "F"
    assert cid.region == "110105"


@pytest.mark.parametrize(
    "value, code, words",
    [
        ("1101051949123100", "id_length", "18 characters"),
        ("11010519491231002A", "id_charset", "17 digits"),
        ("00010519491231002X", "id_region", "province code"),
        ("11010519490231002X", "id_birth_date", "impossible birth date"),
        ("11010520990101002X", "id_birth_date", "out of range"),
        ("110105194912310021", "id_check_digit", "MOD 11-2"),
    ],
)
def test_invalid_ids_name_the_rule(value, code, words):
    with pytest.raises(ValidationError) as err:
        parse_citizen_id(value)
    assert err.value.code == code
    assert words in str(err.value.message)
    assert "GB" in str(err.value.message)


@st.composite
def id_bodies(draw):
    region = draw(st.sampled_from(["110101", "440305", "310104", "510107", "650102"]))
    birth = draw(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2020, 12, 31)))
    seq = draw(st.integers(0, 999))
    return f"{region}{birth:%Y%m%d}{seq:03d}"


@given(id_bodies())
def test_every_id_with_its_check_char_is_valid_and_no_other_is(body):
    good = body + id_check_char(body)
    cid = parse_citizen_id(good)
    assert cid.sex == ("M" if int(body[16]) % 2 else "F")
    for wrong in set("0123456789X") - {good[-1]}:
        with pytest.raises(ValidationError):
            parse_citizen_id(body + wrong)


def test_published_credit_code_example_is_valid():
    """GB 32100's worked example: the check character of 91350100M000100Y4 is 3."""
    assert uscc_check_char("91350100M000100Y4") == "3"
    assert validate_credit_code("91350100M000100Y43") is None  # raises ValidationError when invalid


@pytest.mark.parametrize(
    "value, code",
    [
        ("91350100M000100Y4", "uscc_length"),
        ("91350100M000100YI3", "uscc_charset"),
        ("91350100M000100Y44", "uscc_check_digit"),
    ],
)
def test_invalid_credit_codes_name_the_rule(value, code):
    with pytest.raises(ValidationError) as err:
        validate_credit_code(value)
    assert err.value.code == code
    assert "GB 32100" in str(err.value.message)


_USCC = "0123456789ABCDEFGHJKLMNPQRTUWXY"


@given(st.text(alphabet=_USCC, min_size=17, max_size=17))
def test_credit_code_check_char_round_trip(body):
    validate_credit_code(body + uscc_check_char(body))
    wrong = _USCC[(_USCC.index(uscc_check_char(body)) + 1) % 31]
    with pytest.raises(ValidationError):
        validate_credit_code(body + wrong)


@pytest.mark.django_db
def test_person_model_refuses_a_bad_id_and_derives_birth_and_sex():
    from gridmap.people.models import Person

    bad = Person(id_number="110105194912310021", name="张三")
    with pytest.raises(ValidationError) as err:
        bad.full_clean()
    assert "MOD 11-2" in str(err.value)
    good = Person(id_number="11010519491231002x", name="张三")
    good.full_clean()
    assert (good.id_number, good.sex, str(good.birth_date)) == ("11010519491231002X", "F", "1949-12-31")
    wrong_sex = Person(id_number="11010519491231002X", name="张三", sex="M")
    with pytest.raises(ValidationError, match="digit 17"):
        wrong_sex.full_clean()


@pytest.mark.django_db
def test_organisation_model_refuses_a_bad_credit_code():
    from gridmap.places.models import Organisation

    org = Organisation(name="甲公司", kind="enterprise", credit_code="91350100M000100Y44")
    with pytest.raises(ValidationError) as err:
        org.full_clean()
    assert "GB 32100" in str(err.value.message_dict["credit_code"])
