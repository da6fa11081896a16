"""Area scoping and masking: every selector passes its queryset through `scope`.

A user sees the records placed in their area's subtree. Records outside every grid (the
unassigned queue) are seen by the users whose area boundary covers them, and by the centre.
"""
from django.db.models import Q, QuerySet


def scope(qs: QuerySet, user, grid: str = "grid", location: str | None = "location") -> QuerySet:
    """Filter `qs` to what `user` may see. `grid` is the lookup path to the record's grid ("" when
    the rows are areas themselves), `location` the path to its point (None where it has none)."""
    if not user or not user.is_authenticated:
        return qs.none()
    if user.sees_everything:
        return qs
    if user.area_id is None:
        return qs.none()
    area = user.area
    if not grid:
        visible = Q(path__startswith=area.path)
    else:
        # the subtree's ids as a list, not a join to the areas: the condition then stays on the
        # records' own grid column, and with the unassigned branch below PostgreSQL can still
        # use that column's index (grid IN (…) OR grid IS NULL) instead of scanning every record
        visible = Q(**{f"{grid}__in": subtree_ids(area)})
    if location and area.boundary is not None:
        visible |= Q(**{f"{grid}__isnull": True, f"{location}__intersects": area.boundary})
    return qs.filter(visible)


def subtree_ids(area) -> list[int]:
    """The ids of `area` and every area below it (kept on the area object: one query a request)."""
    if not hasattr(area, "_subtree_ids"):  # the area's own model: core sits below grids and imports none of it
        area._subtree_ids = list(type(area)._default_manager.filter(path__startswith=area.path).values_list("id", flat=True))
    return area._subtree_ids


def mask_id_number(value: str) -> str:
    """440305199001011234 → 440305********1234: region and last four stay readable."""
    if not value:
        return value
    return value[:6] + "*" * max(len(value) - 10, 0) + value[-4:] if len(value) > 10 else "*" * len(value)


def mask_phone(value: str) -> str:
    """13812345678 → 138****5678."""
    if not value or len(value) < 7:
        return "*" * len(value or "")
    return value[:3] + "*" * (len(value) - 7) + value[-4:]
