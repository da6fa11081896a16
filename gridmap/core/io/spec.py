"""The shapes a register's import/export table is made of: columns, references, geometry."""
from dataclasses import dataclass, field
from typing import Callable

import pandas as pd
from django.db import models

from gridmap.core.crypto import EncryptedCharField
from . import parsing


@dataclass(frozen=True)
class Col:
    """A file column holding one model field (`field` defaults to the column's name)."""

    name: str
    field: str = ""
    required: bool | None = None       # None: required when the model field has no default and may not be blank
    aliases: tuple[str, ...] = ()      # other headers accepted on import
    parse: Callable | None = None      # overrides the parser chosen from the model field

    @property
    def field_name(self) -> str:
        return self.field or self.name


@dataclass(frozen=True)
class Ref:
    """A foreign key (or, with many=True, a many-to-many) given in the file by natural key.

    `source` is SQL for the referenced rows with alias r, `keys` SQL text expressions that match
    `columns` in order. One definition serves the look-up on import and the join on export."""

    field: str
    columns: tuple[str, ...]
    source: str
    keys: tuple[str, ...]
    required: bool = False
    many: bool = False
    upper: bool = False                # compare in capitals (ID numbers, credit codes)
    int_columns: tuple[str, ...] = ()  # key parts that are whole numbers (unit numbers)
    in_file: str = ""                  # also resolvable to a row of the same file by this column
    # the key is an encrypted column (gridmap.core.crypto): looked up by the keyed hash of the
    # value normalised with this, in the column's DigestField `<key>_digest`; exported decrypted
    hashed: Callable[[str], str] | None = None


@dataclass(frozen=True)
class Geom:
    field: str
    kinds: tuple[str, ...]             # shapely geometry types accepted
    required: bool = True

    @property
    def points_only(self) -> bool:
        return self.kinds == ("Point",)


@dataclass
class Register:
    """One register's import/export definition; `services` runs every register from it."""

    kind: str
    model: type[models.Model]
    columns: list[Col]
    refs: list[Ref] = field(default_factory=list)
    geometry: Geom | None = None
    extra: tuple[str, ...] = ()        # other columns read as text for `check` (OSM ids), never stored
    key: tuple[str, ...] = ()          # file columns identifying a row: duplicates refused, upsert target
    conflict: str = ""                 # SQL ON CONFLICT target matching `key`
    bulk: bool = False                 # load with triggers aside, placed set-based
    point_sql: str = "ST_PointOnSurface(_geom)"  # a bulk row's point, as its trigger would set it
    # row rules on parsed values (may also normalise or derive them, adding a derived column to
    # `present` so an update writes it): [(bad-row mask, field, reason), ...]
    check: Callable[[pd.DataFrame, set], list[tuple[pd.Series, str, object]]] | None = None
    load: Callable | None = None       # replaces the generic COPY + INSERT (areas, households)
    export_sql: str = ""               # replaces the generic export query
    sort: tuple[str, ...] = ()         # export order (file columns); default: the key

    def model_field(self, col: Col):
        return self.model._meta.get_field(col.field_name)

    def sealed_columns(self) -> list[str]:
        """File columns that the database holds encrypted: exported decrypted."""
        sealed = {f.name for f in self.model._meta.concrete_fields if isinstance(f, EncryptedCharField)}
        return [c.name for c in self.columns if c.field_name in sealed] + [r.columns[0] for r in self.refs if r.hashed]


def parser_for(f) -> Callable:
    """The cell parser for a model field, from its type, choices, bounds and length."""
    if f.choices:
        return lambda s: parsing.parse_choice(s, f.choices)
    kind = f.get_internal_type()
    if kind in ("IntegerField", "SmallIntegerField", "PositiveIntegerField", "PositiveSmallIntegerField", "BigIntegerField"):
        lo = 0 if kind.startswith("Positive") else None
        for v in f.validators:
            if getattr(v, "code", "") == "min_value":
                lo = v.limit_value
        hi = 32767 if "Small" in kind else None
        return lambda s: parsing.parse_int(s, lo, hi)
    if kind in ("FloatField", "DecimalField"):
        return parsing.parse_float
    if kind == "DateField":
        return parsing.parse_date
    if kind == "DateTimeField":
        return parsing.parse_datetime
    if kind == "BooleanField":
        return parsing.parse_bool
    return lambda s: parsing.parse_text(s, f.max_length)
