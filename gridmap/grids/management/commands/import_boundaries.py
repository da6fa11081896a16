from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_datetime

from gridmap.core.commands import database_guard
from gridmap.core.io.reading import FileRefused
from gridmap.grids import proposals, selectors, services
from gridmap.grids.boundary_files import read_set
from gridmap.grids.followers import POLICIES
from gridmap.grids.models import GridLayer


class Command(BaseCommand):
    help = (
        "Import a whole set of grid boundaries (GeoJSON, Shapefile or GeoPackage; columns code and "
        "name, optional) as one boundary change: each polygon is matched to a current grid by code, "
        "else by largest overlap, and keeps its identity; unmatched polygons become new grids; current "
        "grids of the covered communities that match no polygon retire. Prints the topology findings "
        "and what would move; writes nothing unless --commit is given (then one transaction: new "
        "versions, re-placed records, open events kept or moved by --policy)."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="the boundary file")
        parser.add_argument("--layer", help="grid layer code (default: the primary layer)")
        parser.add_argument("--crs", help="the file's CRS when it declares none or a wrong one, e.g. EPSG:4490")
        parser.add_argument("--gcj02", action="store_true", help="the coordinates are GCJ-02 (Chinese web maps)")
        parser.add_argument("--commit", action="store_true", help="write the change (default: preview only)")
        parser.add_argument("--reason", default="", help="why the boundaries change (required with --commit)")
        parser.add_argument("--user", help="the username recorded as the author")
        parser.add_argument("--effective", help="ISO date-time the change takes effect (default: now)")
        parser.add_argument("--policy", choices=list(POLICIES), default="default",
                            help="open events handled in changed grids: " + "; ".join(f"{k}: {v}" for k, v in POLICIES.items()))

    def handle(self, path, layer=None, crs=None, gcj02=False, commit=False, reason="", user=None, effective=None,
               policy="default", **options):
        layer_obj = GridLayer.objects.filter(code=layer).first() if layer else selectors.primary_layer()
        if layer_obj is None:
            raise CommandError(f"no grid layer {layer!r}")
        author = None
        if user:
            author = get_user_model().objects.filter(username=user).first()
            if author is None:
                raise CommandError(f"no user {user!r}")
        when = parse_datetime(effective) if effective else None
        if effective and when is None:
            raise CommandError(f"--effective {effective!r} is not an ISO date-time (e.g. 2027-01-01T00:00+08:00)")
        if commit and not reason.strip():
            raise CommandError("--commit needs --reason")
        try:
            proposal = proposals.import_set(layer_obj, read_set(path, crs=crs, gcj02=gcj02))
        except FileRefused as exc:
            raise CommandError(str(exc)) from None
        except ValidationError as exc:
            raise CommandError("the file is refused, nothing stored:\n  " + "\n  ".join(exc.messages)) from None
        with database_guard("the database connection was lost during the boundary import; nothing was changed"):
            self._report(proposal)
            if not commit:
                self.stdout.write("Preview only: nothing written. Run again with --commit --reason \"…\" to apply.")
                return
            try:
                redraw = services.commit_redraw(proposal, author=author, reason=reason, effective_from=when, policy=policy)
            except services.BoundaryConflict as exc:
                raise CommandError(f"the grids changed while importing: {exc}") from None
            except ValidationError as exc:
                raise CommandError("refused, nothing stored:\n  " + "\n  ".join(exc.messages)) from None
        self.stdout.write(self.style.SUCCESS(f"boundary change #{redraw.pk} committed: {redraw.moved}"))

    def _report(self, proposal):
        for c in proposal.changes:
            what = "retires" if c.shape is None else ("new" if c.grid is None else "redrawn")
            self.stdout.write(f"{c.code:20s} {what:8s} {c.name or (c.grid.name if c.grid else '')}")
        for f in proposal.check():
            self.stdout.write(f"{f.severity:8s} {f.message}")
        preview = selectors.impact(proposal)
        for kind in preview.moves:
            self.stdout.write(f"{kind:14s} {preview.moved(kind):>8,d} move")
