"""Apps import each other in one direction only (ARCHITECTURE.md). Every module under gridmap/ is
parsed and each of its imports — at module level or inside a function, absolute or relative — is
checked against the order

    core < grids < places < people < events < map, analytics, demo

An app imports only apps below it: people reads places, places reads grids, and so on down to
core. The three at the top import none of each other (the map reads events; events never read
the map). The project's own modules (settings, urls, wsgi) sit above every app. No two modules
import each other, within an app or across.

What does not hold yet is in KNOWN, each with why; an entry that no longer occurs fails the test
too, so the list only shrinks."""
import ast
from pathlib import Path

GRIDMAP = Path(__file__).resolve().parents[1] / "gridmap"
RANK = {"core": 0, "grids": 1, "places": 2, "people": 3, "events": 4, "map": 5, "analytics": 5, "demo": 5}
KNOWN = {
    ("gridmap.core.io", "grids"): "the import/export of every register lives under core; it belongs in an app of its own "
                                  "above the ones whose rows it loads",
    ("gridmap.core.io", "places"): "the same: core.io.registers describes the places registers",
    ("gridmap.core.io", "people"): "the same: core.io.registers describes the people registers",
}


def modules() -> dict[str, Path]:
    """Every module of the project by dotted name (a package by its own name)."""
    found = {}
    for path in sorted(GRIDMAP.rglob("*.py")):
        parts = path.relative_to(GRIDMAP.parent).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imports_of(module: str, source: str, known: set[str], is_package: bool = False) -> set[tuple[str, int]]:
    """The project modules that `source` imports anywhere in it, with the line: `from x import y`
    counts as importing x.y when that is a module, else x; a name is cut back to the nearest module."""
    package = module if is_package else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(up + ([node.module] if node.module else []))
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target.startswith("gridmap.") and target != module:
                found.add((target, node.lineno))
    return found


def app_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in RANK) else None


def graph() -> dict[str, set[tuple[str, int]]]:
    found = modules()
    return {m: imports_of(m, p.read_text(encoding="utf-8"), set(found), p.name == "__init__.py") for m, p in found.items()}


def known_as(module: str, app: str) -> tuple[str, str] | None:
    return next((k for k in KNOWN if k[1] == app and (module == k[0] or module.startswith(k[0] + "."))), None)


def test_every_app_has_its_place_in_the_order():
    apps = {p.parent.name for p in GRIDMAP.glob("*/apps.py")}
    assert apps <= set(RANK), f"place {sorted(apps - set(RANK))} in RANK"


def test_apps_import_only_the_apps_below_them():
    wrong, used = [], set()
    for module, targets in graph().items():
        source = app_of(module)
        if source is None:  # the project's settings, urls, wsgi: above every app
            continue
        for target, line in sorted(targets):
            app = app_of(target)
            if app is None or app == source or RANK[app] < RANK[source]:
                continue
            if (key := known_as(module, app)) is not None:
                used.add(key)
                continue
            below = ", ".join(a for a in RANK if RANK[a] < RANK[source]) or "no app"
            wrong.append(f"{module}:{line} imports {target} ({source} may import {below} only)")
    assert not wrong, "\n".join(wrong)
    assert set(KNOWN) == used, f"no longer needed, remove from KNOWN: {sorted(set(KNOWN) - used)}"


def test_no_two_modules_import_each_other():
    edges = {(m, t) for m, targets in graph().items() for t, _line in targets}
    both = sorted(f"{a} <-> {b}" for a, b in edges if (b, a) in edges and a < b)
    assert not both, "\n".join(both)


def test_the_parser_sees_imports_in_functions_and_relative_ones():
    known = {"gridmap.people", "gridmap.people.selectors", "gridmap.events", "gridmap.events.selectors",
             "gridmap.places", "gridmap.places.models", "gridmap.places.selectors"}
    source = (
        "from . import selectors\n"
        "from .selectors import floor_table\n"
        "import gridmap.places.models\n"
        "def card():\n"
        "    from gridmap.events.selectors import visible_events\n"
        "    from ..places import selectors as place_selectors\n"
    )
    assert imports_of("gridmap.people.api", source, known) == {
        ("gridmap.people.selectors", 1), ("gridmap.people.selectors", 2), ("gridmap.places.models", 3),
        ("gridmap.events.selectors", 5), ("gridmap.places.selectors", 6)}
    assert app_of("gridmap.events.selectors") == "events" and app_of("gridmap.urls") is None
