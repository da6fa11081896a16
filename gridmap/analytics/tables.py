"""Tables of figures, the one shape every dashboard, ranking and report table takes, and their
export to CSV and XLSX. A table names its columns once (key and label, in the user's language);
rows are dicts; the export writes the same numbers the page shows.

    Table(name="by_category", title=_("Events by category"), columns=[("code", _("Code")), ...], rows=[...])
"""
import csv
import io
from dataclasses import dataclass, field

from django.http import HttpResponse
from openpyxl import Workbook
from openpyxl.styles import Font

from .selection import choice

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass
class Table:
    name: str
    title: str
    columns: list[tuple[str, str]]
    rows: list[dict] = field(default_factory=list)
    note: str = ""  # e.g. which boundaries the figures use; written under the title

    def as_dict(self) -> dict:
        return {"name": self.name, "title": self.title, "note": self.note,
                "columns": [{"key": k, "label": label} for k, label in self.columns], "rows": self.rows}

    def values(self):
        """The rows as lists in column order (None stays empty)."""
        for row in self.rows:
            yield [row.get(k) for k, _label in self.columns]


def export(tables: list[Table], fmt: str, filename: str) -> HttpResponse:
    """An attachment holding `tables`: one sheet each in XLSX; in CSV one after another, each
    under its title line (a single table: just its header and rows)."""
    fmt = choice({"format": fmt}, "format", FORMATS)
    body = _xlsx(tables) if fmt == "xlsx" else _csv(tables).encode("utf-8-sig")  # BOM: Excel reads UTF-8
    response = HttpResponse(body, content_type=FORMATS[fmt])
    response["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    return response


def _csv(tables: list[Table]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf)
    for i, table in enumerate(tables):
        if len(tables) > 1:
            if i:
                writer.writerow([])
            writer.writerow([table.title] + ([table.note] if table.note else []))
        writer.writerow([label for _k, label in table.columns])
        writer.writerows([_cell(v) for v in row] for row in table.values())
    return buf.getvalue()


def _xlsx(tables: list[Table]) -> bytes:
    book = Workbook()
    book.remove(book.active)
    used = set()
    for table in tables:
        sheet = book.create_sheet(_sheet_name(table.title, used))
        sheet.append([table.title])
        sheet["A1"].font = Font(bold=True)
        if table.note:
            sheet.append([table.note])
        sheet.append([label for _k, label in table.columns])
        for row in table.values():
            sheet.append([_cell(v) for v in row])
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def _cell(value):
    """Numbers stay numbers; lists and dicts (rare) become text."""
    if value is None or isinstance(value, (int, float, str)):
        return value
    return str(value)


def _sheet_name(title: str, used: set) -> str:
    """Excel: at most 31 characters, none of []:*?/\\, unique in the book."""
    base = "".join(" " if c in "[]:*?/\\" else c for c in title)[:28] or "Sheet"
    name, n = base, 1
    while name in used:
        n += 1
        name = f"{base[:26]}~{n}"
    used.add(name)
    return name
