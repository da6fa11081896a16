"""Filters of the events list (django-filter). Unknown codes and bad values fail the form, so
the API answers 400 naming the parameter; the rules themselves (clock colours, subtrees) come
from selectors."""
import django_filters as df
from django.db.models import Q

from gridmap.core import clock
from gridmap.grids.models import Area

from . import selectors
from .models import Category, Event, Urgency
from .workflow import FINAL_STATES, State


def category_and_descendants(category: Category) -> list[int]:
    """The ids of a category and of every category below it (the tree is small: one query a level)."""
    ids, frontier = [category.pk], [category.pk]
    while frontier:
        frontier = list(Category.objects.filter(parent_id__in=frontier).values_list("pk", flat=True))
        ids += frontier
    return ids


class EventFilter(df.FilterSet):
    status = df.MultipleChoiceFilter(choices=State.choices, help_text="one or more statuses (repeat the parameter)")
    urgency = df.ChoiceFilter(choices=Urgency.choices)
    category = df.ModelChoiceFilter(
        queryset=Category.objects.all(), to_field_name="code", method="filter_category",
        help_text="category code; its sub-categories are included",
    )
    area = df.ModelChoiceFilter(
        queryset=Area.objects.all(), to_field_name="code", method="filter_area",
        help_text="area code; events reported in or handled by any area of its subtree",
    )
    reported_after = df.IsoDateTimeFilter(field_name="reported_at", lookup_expr="gte",
                                          help_text="ISO 8601; without an offset the time is Asia/Shanghai")
    reported_before = df.IsoDateTimeFilter(field_name="reported_at", lookup_expr="lt")
    overdue = df.BooleanFilter(method="filter_overdue", help_text="true: open events past their due time (red)")
    clock = df.ChoiceFilter(choices=[("green", "green"), ("yellow", "yellow"), ("red", "red")], method="filter_clock")
    assignee = df.CharFilter(method="filter_assignee", help_text="`me`, or a username")

    class Meta:
        model = Event
        fields = ["status", "urgency", "category", "area", "reported_after", "reported_before", "overdue", "clock", "assignee"]

    def filter_category(self, qs, name, value):
        return qs.filter(category_id__in=category_and_descendants(value)) if value else qs

    def filter_area(self, qs, name, value):
        if not value:
            return qs
        return qs.filter(Q(area__path__startswith=value.path) | Q(grid__path__startswith=value.path))

    def _clocked(self, qs):
        return qs if "clock" in qs.query.annotations else selectors.with_clock(qs, self._now())

    def _now(self):
        if not hasattr(self, "_at"):
            self._at = clock.now()
        return self._at

    def filter_overdue(self, qs, name, value):
        if value is None:
            return qs
        red_and_open = Q(clock="red") & ~Q(status__in=FINAL_STATES)
        return self._clocked(qs).filter(red_and_open if value else ~red_and_open)

    def filter_clock(self, qs, name, value):
        return self._clocked(qs).filter(clock=value) if value else qs

    def filter_assignee(self, qs, name, value):
        if not value:
            return qs
        if value == "me":
            return qs.filter(assignee=self.request.user) if self.request else qs.none()
        return qs.filter(assignee__username=value)
