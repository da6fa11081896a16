"""Vectorised cell parsers. Each takes a pandas Series of raw cells (text from CSV/XLSX, native
types from GIS files) and returns (values, errors): values with <NA> for empty cells, errors a
Series holding a reason where a cell could not be read and <NA> elsewhere."""
import re
from zoneinfo import ZoneInfo

import pandas as pd
from django.conf import settings
from django.utils import translation

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
    huge = num.notna() & ~num.abs().lt(2.0 ** 63)  # inf, 1e308: no 64-bit integer holds them
    errors[huge] = "too large a number (" + raw[huge] + ")"
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


_NUMBER_UNIT = re.compile(r"^\s*([-+]?\d+(?:\.\d*)?|[-+]?\.\d+)\s*(?:m|米|层|f|floors?|levels?)?\s*$", re.IGNORECASE)


def parse_measure(s: pd.Series, lo: float, hi: float, what: str):
    """A non-negative quantity as a float: typed numbers from GIS files as they are; text may carry
    a unit ("12 m", "12米", "6层", "6F") and, as OpenStreetMap tags do, several values ("3;4"),
    of which the largest is taken. Fractions are kept (3.5 levels: a half storey)."""
    errors = _no_errors(s)
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        num = s.astype("Float64")
    else:
        raw = text(s)

        def one(cell: str):
            parts = [p for p in re.split(r"[;；,，/|、]", cell) if p.strip()]
            found = [_NUMBER_UNIT.match(p) for p in parts]
            if not parts or not all(found):
                return None
            return max(float(m.group(1)) for m in found)

        num = pd.to_numeric(raw.where(raw != ""), errors="coerce").astype("Float64")  # plain numbers, vectorised
        rest = (raw != "") & num.isna()
        if rest.any():  # "3;4", "18 m", "6层": cell by cell
            num[rest] = raw[rest].map(one).astype("Float64")
        bad = (raw != "") & num.isna()
        errors[bad] = f"not a {what} (" + raw[bad] + ")"
    _bounds(num, errors, lo, hi)
    return num.where(errors.isna()), errors


def parse_levels(s: pd.Series):
    """Floors (levels) as OpenStreetMap and surveys give them: 6, 3.5, "3;4" (→ 4), "6层"."""
    return parse_measure(s, 0, 300, "number of floors")


def parse_height(s: pd.Series):
    """A height in metres: 18, 18.5, "18 m", "18米"."""
    return parse_measure(s, 0, 1000, "height in metres")


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
    """Accept a choice by its value, its full label or the Chinese term in the label's brackets,
    whatever the active language: the source label ("community (社区/村)") and the label as
    translated ("社区/村", each term of it too) both count."""
    lookup = {}
    for value, label in choices:
        lookup[str(value).lower()] = value
        with translation.override(None):
            source = str(label)
        shown = str(label)
        lookup[source.lower()] = value
        lookup.setdefault(shown.lower(), value)
        terms = [t for inner in _CJK_IN_LABEL.findall(source) + _CJK_IN_LABEL.findall(shown) for t in re.split(r"[/、]", inner)]
        if shown != source:
            terms += re.split(r"[/、]", _CJK_IN_LABEL.sub("", shown))
        for term in terms:
            if term.strip():
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
