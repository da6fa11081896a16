"""Seed data, editable afterwards in the admin: the event categories PRODUCT.md lists with
their default handling level and time limits, one department, and the 2025–2026 public
holidays and make-up working days as published by the State Council (国务院办公厅通知)."""
import datetime as dt

from django.db import migrations

# code, name, parent code, level, department, limits {urgency: (amount, unit)}
CATEGORIES = [
    ("01", "矛盾纠纷 Disputes", None, "grid", None, {"normal": (5, "workdays"), "urgent": (2, "workdays"), "critical": (24, "hours")}),
    ("0101", "邻里纠纷 Neighbour dispute", "01", "", None, {}),
    ("0102", "家庭纠纷 Family dispute", "01", "", None, {}),
    ("0103", "劳资纠纷 Labour / unpaid wages", "01", "community", None, {"normal": (15, "workdays")}),
    ("0104", "物业纠纷 Property management dispute", "01", "community", None, {}),
    ("0105", "土地纠纷 Land dispute", "01", "street", None, {"normal": (15, "workdays")}),
    ("02", "安全隐患 Safety hazards", None, "grid", None, {"normal": (2, "workdays"), "urgent": (24, "hours"), "critical": (4, "hours")}),
    ("0201", "消防隐患 Fire", "02", "", None, {}),
    ("0202", "房屋安全 Building safety", "02", "community", None, {}),
    ("0203", "燃气隐患 Gas", "02", "", None, {"normal": (24, "hours"), "urgent": (4, "hours"), "critical": (2, "hours")}),
    ("0204", "用电隐患 Electrical", "02", "", None, {}),
    ("0205", "食品安全 Food safety", "02", "department", "market", {}),
    ("0206", "交通安全 Traffic safety", "02", "", None, {}),
    ("0207", "安全生产 Workplace safety", "02", "street", None, {}),
    ("03", "治安问题 Public order", None, "community", None, {"normal": (3, "workdays"), "urgent": (24, "hours"), "critical": (2, "hours")}),
    ("04", "市容环境 City appearance and environment", None, "grid", None, {"normal": (3, "workdays"), "urgent": (24, "hours")}),
    ("0401", "乱堆乱放 Dumped rubbish", "04", "", None, {}),
    ("0402", "占道经营 Street vending", "04", "", None, {}),
    ("0403", "违章搭建 Illegal structure", "04", "street", None, {"normal": (15, "workdays")}),
    ("0404", "部件损坏 Damaged street component", "04", "", None, {}),
    ("05", "民生服务 Livelihood service request", None, "community", None, {"normal": (5, "workdays"), "urgent": (2, "workdays")}),
    ("06", "特殊人群 Special-population incident", None, "grid", None, {"normal": (24, "hours"), "urgent": (4, "hours"), "critical": (1, "hours")}),
    ("07", "信访 Petition", None, "street", None, {"normal": (15, "workdays"), "urgent": (5, "workdays")}),
]
WARN_AT = 0.8

# (first, last, name) holidays; then make-up working days on weekends
HOLIDAYS = [
    ("2025-01-01", "2025-01-01", "元旦"), ("2025-01-28", "2025-02-04", "春节"), ("2025-04-04", "2025-04-06", "清明节"),
    ("2025-05-01", "2025-05-05", "劳动节"), ("2025-05-31", "2025-06-02", "端午节"), ("2025-10-01", "2025-10-08", "国庆节、中秋节"),
    ("2026-01-01", "2026-01-03", "元旦"), ("2026-02-15", "2026-02-23", "春节"), ("2026-04-04", "2026-04-06", "清明节"),
    ("2026-05-01", "2026-05-05", "劳动节"), ("2026-06-19", "2026-06-21", "端午节"), ("2026-09-25", "2026-09-27", "中秋节"),
    ("2026-10-01", "2026-10-07", "国庆节"),
]
MAKE_UP_DAYS = [
    ("2025-01-26", "春节调休"), ("2025-02-08", "春节调休"), ("2025-04-27", "劳动节调休"), ("2025-09-28", "国庆节调休"),
    ("2025-10-11", "国庆节调休"), ("2026-01-04", "元旦调休"), ("2026-02-14", "春节调休"), ("2026-02-28", "春节调休"),
    ("2026-05-09", "劳动节调休"), ("2026-09-20", "国庆节调休"), ("2026-10-10", "国庆节调休"),
]


def seed(apps, schema_editor):
    Category = apps.get_model("events", "Category")
    TimeLimit = apps.get_model("events", "TimeLimit")
    Department = apps.get_model("events", "Department")
    CalendarDay = apps.get_model("events", "CalendarDay")
    market, _ = Department.objects.get_or_create(code="market", defaults={"name": "市场监管所 Market supervision"})
    made = {}
    for code, name, parent, level, dept, limits in CATEGORIES:
        made[code] = Category.objects.create(
            code=code, name=name, parent=made.get(parent), handling_level=level,
            department=market if dept == "market" else None,
        )
        for urgency, (amount, unit) in limits.items():
            TimeLimit.objects.create(category=made[code], urgency=urgency, amount=amount, unit=unit, warn_at=WARN_AT)
    for first, last, name in HOLIDAYS:
        day, end = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
        while day <= end:
            CalendarDay.objects.update_or_create(date=day, defaults={"is_workday": False, "name": name})
            day += dt.timedelta(days=1)
    for day, name in MAKE_UP_DAYS:
        CalendarDay.objects.update_or_create(date=dt.date.fromisoformat(day), defaults={"is_workday": True, "name": name})


class Migration(migrations.Migration):
    dependencies = [("events", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
