"""The dashboard's tables exported to CSV and XLSX: the files open and hold the numbers the JSON
answer (and so the page) shows, table by table."""
import csv
import io

import pytest
from openpyxl import load_workbook

from .dashboard_month import MOMENT, _empty_cache, api, leader_a, month  # noqa: F401 (fixtures)

API = "/api/analytics/dashboard/"
EXPORT = API + "export/"
pytestmark = pytest.mark.time_machine(MOMENT)


def answer(api, user, **params):
    response = api(user).get(API, params)
    assert response.status_code == 200, response.content
    return {t["name"]: t for t in response.json()["tables"]}


def expected(table) -> list[list]:
    """The table as the export writes it: the header, then each row in column order."""
    return [[c["label"] for c in table["columns"]]] + [[row.get(c["key"]) for c in table["columns"]] for row in table["rows"]]


def test_one_table_as_csv_holds_the_numbers_of_the_json(api, tree, staff, month):
    tables = answer(api, staff["community"], period="2026-11")
    for name in ("children", "kpis", "settlement", "overdue"):
        response = api(staff["community"]).get(EXPORT, {"period": "2026-11", "table": name, "format": "csv"})
        assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
        assert f"-{name}.csv" in response["Content-Disposition"]
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
        want = [["" if v is None else str(v) for v in row] for row in expected(tables[name])]
        assert rows == want


def test_all_tables_as_xlsx_one_sheet_each_with_the_same_numbers(api, tree, staff, month):
    tables = answer(api, staff["community"], period="2026-11")
    response = api(staff["community"]).get(EXPORT, {"period": "2026-11", "format": "xlsx"})
    assert response.status_code == 200 and "spreadsheetml" in response["Content-Type"]
    book = load_workbook(io.BytesIO(response.content))
    assert len(book.worksheets) == len(tables)
    for sheet, table in zip(book.worksheets, tables.values(), strict=True):
        rows = [list(r) for r in sheet.iter_rows(values_only=True)]
        assert rows[0][0] == table["title"] and rows[1][0] == table["note"]
        assert rows[2:] == [[None if v == "" else v for v in row] for row in expected(table)], table["name"]  # an empty cell is None
    kpi_sheet = book.worksheets[list(tables).index("kpis")]
    values = dict(zip((r["key"] for r in tables["kpis"]["rows"]), (r[1] for r in kpi_sheet.iter_rows(min_row=4, values_only=True)), strict=True))
    assert (values["closed_on_time_pct"], values["overdue_now"], values["p90_hours"]) == (71.4, 1, 264.0)  # as computed by hand


def test_a_bad_table_or_format_is_named(api, tree, staff):
    assert api(staff["community"]).get(EXPORT, {"table": "nope", "format": "csv"}).json().keys() == {"table"}
    assert api(staff["community"]).get(EXPORT, {"format": "pdf"}).json().keys() == {"format"}
