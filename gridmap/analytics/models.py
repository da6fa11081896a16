"""The assessment scheme (考核方案): weights per level, the monthly report target, the time to
sign for an event and the yellow-card line, set by the centre. Scores themselves are never
stored: they are computed from the records (assessment.py)."""
import datetime as dt

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

DEFAULT_WEIGHTS = (40, 10, 50)  # PRODUCT.md for grid workers: work results, skills, resident satisfaction


class Unit(models.TextChoices):
    """What is assessed: a person, an area of one level, or a department."""

    WORKER = "worker", _("grid worker (网格员)")
    GRID = "grid", _("grid (网格)")
    COMMUNITY = "community", _("community (社区)")
    STREET = "street", _("street (街道)")
    DEPARTMENT = "department", _("department (职能部门)")


class AssessmentScheme(models.Model):
    """The rules a month is scored by: the scheme with the latest `effective_from` on or before
    the month's first day."""

    name = models.CharField(_("name"), max_length=100)
    effective_from = models.DateField(_("effective from"), unique=True, default=dt.date(2000, 1, 1))
    report_target = models.PositiveSmallIntegerField(
        _("reports per worker per month"), default=4,
        help_text=_("a grid worker who reports this many events in a month gets the full mark for reporting"))
    sign_within_hours = models.PositiveSmallIntegerField(
        _("sign for an event within (hours)"), default=24,
        help_text=_("an event is accepted on time when its handler signs for it (签收) this soon after it was assigned"))
    yellow_card_below = models.PositiveSmallIntegerField(_("yellow card below (score)"), default=80)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("assessment scheme (考核方案)")
        verbose_name_plural = _("assessment schemes (考核方案)")
        ordering = ["-effective_from"]
        constraints = [
            models.CheckConstraint(condition=Q(report_target__gte=1), name="report_target_at_least_1",
                                   violation_error_message=_("The report target must be at least 1.")),
            models.CheckConstraint(condition=Q(yellow_card_below__lte=100), name="yellow_card_at_most_100",
                                   violation_error_message=_("A score is out of 100: the yellow-card line must be at most 100.")),
        ]

    def __str__(self):
        return f"{self.name} ({self.effective_from})"

    def weights_for(self, unit: str) -> tuple[int, int, int]:
        """(results, skills, satisfaction) for `unit`; the default where the scheme names none."""
        row = next((w for w in self.weights.all() if w.unit == unit), None) if self.pk else None
        return (row.results, row.skills, row.satisfaction) if row else DEFAULT_WEIGHTS

    @property
    def fingerprint(self) -> str:
        """Everything a score depends on: cached answers are keyed by it, so an edit shows at once."""
        weights = ",".join(f"{u}:{'/'.join(map(str, self.weights_for(u)))}" for u in Unit.values)
        return f"{self.pk}|{self.report_target}|{self.sign_within_hours}|{self.yellow_card_below}|{self.name}|{weights}"


class AssessmentWeights(models.Model):
    """The weights of the three parts of a score for one level; they add up to 100."""

    scheme = models.ForeignKey(AssessmentScheme, verbose_name=_("scheme"), on_delete=models.CASCADE, related_name="weights")
    unit = models.CharField(_("assessed"), max_length=12, choices=Unit.choices)
    results = models.PositiveSmallIntegerField(_("work results (工作实绩)"), default=DEFAULT_WEIGHTS[0])
    skills = models.PositiveSmallIntegerField(_("skills (业务能力)"), default=DEFAULT_WEIGHTS[1])
    satisfaction = models.PositiveSmallIntegerField(_("resident satisfaction (群众满意度)"), default=DEFAULT_WEIGHTS[2])

    class Meta:
        verbose_name = _("assessment weights (考核权重)")
        verbose_name_plural = _("assessment weights (考核权重)")
        ordering = ["scheme", "unit"]
        constraints = [
            models.UniqueConstraint(fields=["scheme", "unit"], name="one_weighting_per_scheme_and_unit"),
            # full_clean (the admin's form) shows the message; the database refuses any other way in
            models.CheckConstraint(condition=Q(results__gte=0) & Q(skills__gte=0) & Q(satisfaction__gte=0)
                                   & Q(results=100 - F("skills") - F("satisfaction")),
                                   name="weights_add_up_to_100",
                                   violation_error_message=_("The weights (work results + skills + satisfaction) must add up to 100.")),
        ]

    def __str__(self):
        return f"{self.get_unit_display()}: {self.results}/{self.skills}/{self.satisfaction}"
