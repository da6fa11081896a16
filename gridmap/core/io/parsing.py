"""Vectorised cell parsers. Each takes a pandas Series of raw cells (text from CSV/XLSX, native
types from GIS files) and returns (values, errors): values with <NA> for empty cells, errors a
Series holding a reason where a cell could not be read and <NA> elsewhere."""
import re
from zoneinfo import ZoneInfo

import pandas as pd
from django.conf import settings

_SEVERAL = re.compile(r"[;,，；/、|]")
_CJK_IN_LABEL = re.compile(r"\(([^)]*)\)")


def text(s: pd.Series) -> pd.Series:
    """Cells as stripped strings, '' for empty; integral floats ("12.0" from a GIS file) lose the .0."""
    if pd.api.types.is_float_dtype(s):
        s = s.map(lambda v: "" if pd.isna(v) else (str(int(v)) if float(v).is_integer() else str(v)))
    return s.astype("string").fillna("").str.strip().astype(object)


def _no_errors(s: pd.Series) -> pd.Series:
    return pd.Series(pd.NA, index=s.index, dtype=object)


def parse_text(s: pd.Series, max_length: int | None = None):
    values = text(s)
    errors = _no_errors(s)
    if max_length:
        long = values.str.len() > max_length
        errors[long] = f"longer than {max_length} characters"
    return values.where(values != "", pd.NA), errors


def parse_int(s: pd.Series, lo: int | None = None, hi: int | None = None):
    errors = _no_errors(s)
    if pd.api.types.is_integer_dtype(s):  # GIS files carry typed columns: skip the text round trip
        num = s.astype("Int64")
        _bounds(num, errors, lo, hi)
        return num.where(errors.isna()), errors
    raw = text(s)
    num = pd.to_numeric(raw.where(raw != ""), errors="coerce")
    empty = raw == ""
    several = ~empty & num.isna() & raw.str.contains(_SEVERAL)
    errors[several] = "holds several values (" + raw[several] + "); give one whole number"
    errors[~empty & num.isna() & ~several] = "not a number (" + raw[~empty & num.isna() & ~several] + ")"
    frac = num.notna() & (num % 1 != 0)
    errors[frac] = "not a whole number (" + raw[frac] + ")"
    _bounds(num, errors, lo, hi)
    return num.where(errors.isna() & num.notna()).round().astype("Int64"), errors


def _bounds(num: pd.Series, errors: pd.Series, lo, hi) -> None:
    if lo is not None:
        errors[(num < lo).fillna(False)] = f"must be at least {lo}"
    if hi is not None:
        errors[(num > hi).fillna(False)] = f"must be at most {hi}"


def parse_float(s: pd.Series, lo: float | None = None):
    raw = text(s)
    num = pd.to_numeric(raw.where(raw != ""), errors="coerce")
    errors = _no_errors(s)
    errors[(raw != "") & num.isna()] = "not a number (" + raw[(raw != "") & num.isna()] + ")"
    if lo is not None:
        errors[num.notna() & (num < lo)] = f"must be at least {lo}"
    return num.where(errors.isna()).astype("Float64"), errors


def parse_date(s: pd.Series):
    raw = text(s).str.replace(r"[年月/.]", "-", regex=True).str.replace("日", "", regex=False)
    d = pd.to_datetime(raw.where(raw != ""), errors="coerce", format="mixed")
    errors = _no_errors(s)
    errors[(raw != "") & d.isna()] = "not a date (" + raw[(raw != "") & d.isna()] + "); use YYYY-MM-DD"
    return d.dt.date.where(d.notna(), pd.NA), errors


def parse_datetime(s: pd.Series):
    """Naive times are local (settings.TIME_ZONE)."""
    raw = text(s)
    d = pd.to_datetime(raw.where(raw != ""), errors="coerce", format="mixed", utc=False)
    if d.dt.tz is None:
        d = d.dt.tz_localize(ZoneInfo(settings.TIME_ZONE), ambiguous="NaT", nonexistent="NaT")
    errors = _no_errors(s)
    errors[(raw != "") & d.isna()] = "not a date and time (" + raw[(raw != "") & d.isna()] + "); use YYYY-MM-DD HH:MM"
    return d.map(lambda v: v.isoformat() if pd.notna(v) else pd.NA).astype(object), errors


_TRUE = {"1", "true", "t", "yes", "y", "是", "√"}
_FALSE = {"0", "false", "f", "no", "n", "否", "×"}


def parse_bool(s: pd.Series):
    raw = text(s).str.lower()
    values = pd.Series(pd.NA, index=s.index, dtype=object)
    values[raw.isin(_TRUE)] = True
    values[raw.isin(_FALSE)] = False
    errors = _no_errors(s)
    bad = (raw != "") & values.isna()
    errors[bad] = "not yes/no (" + raw[bad] + ")"
    return values, errors


def choice_lookup(choices) -> dict[str, str]:
    """Accept a choice by its value, its full label or the Chinese term in the label's brackets."""
    lookup = {}
    for value, label in choices:
        lookup[str(value).lower()] = value
        lookup[str(label).lower()] = value
        for inner in _CJK_IN_LABEL.findall(str(label)):
            for term in re.split(r"[/、]", inner):
                lookup.setdefault(term.strip().lower(), value)
    return lookup


def parse_choice(s: pd.Series, choices):
    lookup = choice_lookup(choices)
    raw = text(s)
    values = raw.str.lower().map(lookup)
    errors = _no_errors(s)
    bad = (raw != "") & values.isna()
    allowed = ", ".join(str(v) for v, _ in choices)
    errors[bad] = "unknown value (" + raw[bad] + f"); allowed: {allowed}"
    return values.where(values.notna(), pd.NA).astype(object), errors


def several(s: pd.Series) -> pd.Series:
    """A ';'-separated list cell as a list of stripped items."""
    return text(s).map(lambda v: [x.strip() for x in re.split(r"[;；,，]", v) if x.strip()])
