"""The area hierarchy (区县 → 街道 → 社区 → 网格) and grid layers, with versioned boundaries."""
from django.conf import settings
from django.contrib.gis.db import models
from django.db.models import Q, Value
from django.db.models.functions import Concat, Substr
from django.utils.translation import gettext_lazy as _


class Level(models.TextChoices):
    DISTRICT = "district", _("District / county (区县)")
    STREET = "street", _("Street / town (街道/乡镇)")
    COMMUNITY = "community", _("Community / village (社区/村)")
    GRID = "grid", _("Grid (网格)")


LEVEL_ORDER = [Level.DISTRICT, Level.STREET, Level.COMMUNITY, Level.GRID]


class GridLayer(models.Model):
    """A grid layer (网格图层): several may cover the same ground, each with its own staff.

    Exactly one layer is primary (the social-management grid, 综治网格); records are placed in
    it for scoping and routing.
    """

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    is_primary = models.BooleanField(_("primary layer"), default=False)

    class Meta:
        verbose_name = _("grid layer (网格图层)")
        verbose_name_plural = _("grid layers")
        constraints = [
            models.UniqueConstraint(fields=["is_primary"], condition=Q(is_primary=True), name="one_primary_layer")
        ]

    def __str__(self):
        return self.name


class Area(models.Model):
    """A node of the area tree (区域): district, street, community or grid; depth may vary.

    `path` is the materialised chain of ancestor ids ("/1/4/17/") so a whole subtree is one
    indexed prefix query; scoping uses it everywhere. `boundary` is the current version; the
    history is in AreaBoundary.
    """

    code = models.CharField(
        _("code"), max_length=32, unique=True,
        help_text=_("GB/T 2260 county code + street + community (+ grid), e.g. CJ/T 213 15 digits for a grid"),
    )
    name = models.CharField(_("name"), max_length=100)
    level = models.CharField(_("level"), max_length=12, choices=Level.choices)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    layer = models.ForeignKey(
        GridLayer, verbose_name=_("grid layer"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="grids", help_text=_("Only grids belong to a layer."),
    )
    path = models.CharField(max_length=255, editable=False, db_index=True, default="")
    boundary = models.MultiPolygonField(_("boundary"), srid=4326, null=True, blank=True)
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("leader (网格长/负责人)"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="led_areas",
    )
    workers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("workers (网格员)"), blank=True, related_name="worked_areas"
    )
    phone = models.CharField(_("duty phone"), max_length=20, blank=True)
    # A grid merged into another or deleted keeps its row (events reported in it point at it) and
    # its boundary versions; it has no current boundary, so nothing is placed in it any more.
    retired_at = models.DateTimeField(_("retired at"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("area (区域/网格)")
        verbose_name_plural = _("areas and grids")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(level="grid", layer__isnull=False) | (~Q(level="grid") & Q(layer__isnull=True)),
                name="grid_has_layer",
            )
        ]
        indexes = [models.Index(fields=["level", "layer"])]

    def __str__(self):
        return f"{self.name} ({self.code})"

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        path = (self.parent.path if self.parent_id else "/") + f"{self.pk}/"
        if path != self.path:
            old, self.path = self.path, path
            Area.objects.filter(pk=self.pk).update(path=path)
            if old:  # moved under a new parent: the subtree moves along
                Area.objects.filter(path__startswith=old).exclude(pk=self.pk).update(
                    path=Concat(Value(path), Substr("path", len(old) + 1))
                )

    def is_within(self, other: "Area") -> bool:
        return self.path.startswith(other.path)


class Operation(models.TextChoices):
    DRAW = "draw", _("draw a new grid")
    RESHAPE = "reshape", _("redraw")
    SPLIT = "split", _("split")
    MERGE = "merge", _("merge")
    DELETE = "delete", _("delete")
    IMPORT = "import", _("import a boundary set")


class Redraw(models.Model):
    """One committed boundary change (边界调整): who, when, why, effective from when, and what it
    moved; every boundary version it wrote points at it."""

    operation = models.CharField(_("operation"), max_length=10, choices=Operation.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("author"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    committed_at = models.DateTimeField(_("committed at"))
    effective_from = models.DateTimeField(_("effective from"))
    reason = models.CharField(_("reason"), max_length=300)
    # what moved, as the preview counted it: {"buildings": 12, "people": 310, ...} and the
    # open events kept with or moved from their handler
    moved = models.JSONField(_("what moved"), default=dict, blank=True)

    class Meta:
        verbose_name = _("boundary change (边界调整)")
        verbose_name_plural = _("boundary changes")
        ordering = ["-committed_at"]

    def __str__(self):
        return f"{self.get_operation_display()} {self.committed_at:%Y-%m-%d %H:%M}"


class AreaBoundary(models.Model):
    """One version of an area's boundary (边界版本): kept forever, never rewritten."""

    area = models.ForeignKey(Area, on_delete=models.CASCADE, related_name="boundary_versions")
    version = models.PositiveIntegerField(_("version"))
    geom = models.MultiPolygonField(_("boundary"), srid=4326)
    valid_from = models.DateTimeField(_("valid from"))
    valid_to = models.DateTimeField(_("valid to"), null=True, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("author"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=300)
    redraw = models.ForeignKey(Redraw, verbose_name=_("boundary change"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="versions")

    class Meta:
        verbose_name = _("boundary version (边界版本)")
        verbose_name_plural = _("boundary versions")
        ordering = ["area", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["area", "version"], name="unique_boundary_version"),
            models.UniqueConstraint(fields=["area"], condition=Q(valid_to__isnull=True), name="one_current_boundary"),
        ]
