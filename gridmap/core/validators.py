"""Validators for the national identifier standards the registers use.

GB 11643-1999: 18-character citizen ID number (公民身份号码) with an ISO 7064 MOD 11-2 check
character; birth date and sex are encoded in it.
GB 32100-2015: 18-character unified social credit code (统一社会信用代码) with a MOD 31 check
character over a 31-symbol alphabet.
Each error message names the rule that failed, so a clerk knows what to fix.
"""
import datetime as dt
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from gridmap.core import clock

_ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
_ID_CHECK = "10X98765432"
_ID_SHAPE = re.compile(r"^\d{17}[\dX]$")


@dataclass(frozen=True)
class CitizenId:
    number: str
    region: str
    birth_date: dt.date
    sex: str  # "M" or "F"


def id_check_char(first17: str) -> str:
    return _ID_CHECK[sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS)) % 11]


def parse_citizen_id(value: str, today: dt.date | None = None) -> CitizenId:
    """Validate a GB 11643 ID number and return what it encodes, or raise ValidationError."""
    number = (value or "").strip().upper()
    if len(number) != 18:
        raise ValidationError(
            _("ID number must have 18 characters (GB 11643), got %(n)d") % {"n": len(number)},
            code="id_length",
        )
    if not _ID_SHAPE.match(number):
        raise ValidationError(
            _("ID number must be 17 digits followed by a digit or X (GB 11643)"), code="id_charset"
        )
    if number[:2] not in _PROVINCES:
        raise ValidationError(
            _("ID number starts with %(p)s, which is not a province code (GB/T 2260)") % {"p": number[:2]},
            code="id_region",
        )
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValidationError(
            _("ID number holds an impossible birth date %(d)s (GB 11643 digits 7-14)") % {"d": number[6:14]},
            code="id_birth_date",
        ) from None
    today = today or clock.today()
    if birth > today or birth.year < 1880:
        raise ValidationError(
            _("ID number birth date %(d)s is out of range (GB 11643 digits 7-14)") % {"d": birth.isoformat()},
            code="id_birth_date",
        )
    expected = id_check_char(number[:17])
    if number[17] != expected:
        raise ValidationError(
            _("ID number check character is %(got)s but should be %(want)s (GB 11643 ISO 7064 MOD 11-2)")
            % {"got": number[17], "want": expected},
            code="id_check_digit",
        )
    return CitizenId(number, number[:6], birth, "M" if int(number[16]) % 2 else "F")


def validate_citizen_id(value: str) -> None:
    parse_citizen_id(value)


# GB 2260 province-level prefixes (including 71 Taiwan, 81 Hong Kong, 82 Macao).
_PROVINCES = {
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
    "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64",
    "65", "71", "81", "82",
}

_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
_USCC_SHAPE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{18}$")


def uscc_check_char(first17: str) -> str:
    total = sum(_USCC_ALPHABET.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS))
    return _USCC_ALPHABET[(31 - total % 31) % 31]


def validate_credit_code(value: str) -> None:
    """Validate a GB 32100 unified social credit code, or raise ValidationError naming the rule."""
    code = (value or "").strip().upper()
    if len(code) != 18:
        raise ValidationError(
            _("Credit code must have 18 characters (GB 32100), got %(n)d") % {"n": len(code)},
            code="uscc_length",
        )
    if not _USCC_SHAPE.match(code):
        raise ValidationError(
            _("Credit code may only use digits and capitals without I, O, Z, S, V (GB 32100)"),
            code="uscc_charset",
        )
    expected = uscc_check_char(code[:17])
    if code[17] != expected:
        raise ValidationError(
            _("Credit code check character is %(got)s but should be %(want)s (GB 32100 MOD 31)")
            % {"got": code[17], "want": expected},
            code="uscc_check_digit",
        )


# Control characters (C0 but tab, line feed and carriage return; DEL; C1) have no place in text
# typed into a form, a search box or a URL; NUL is refused by PostgreSQL itself ("A string literal
# cannot contain NUL (0x00) characters") and would otherwise surface as a 500.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def has_control_characters(value) -> bool:
    return isinstance(value, str) and CONTROL_CHARACTERS.search(value) is not None


def validate_no_control_characters(value) -> None:
    """Refuse text holding a control character, naming the first one (e.g. U+0000)."""
    if isinstance(value, str):
        m = CONTROL_CHARACTERS.search(value)
        if m:
            raise ValidationError(
                _("Text may not contain control characters (found U+%(code)04X at position %(pos)d)")
                % {"code": ord(m.group()), "pos": m.start() + 1},
                code="control_character",
            )
