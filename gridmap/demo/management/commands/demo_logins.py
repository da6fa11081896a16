"""manage.py demo_logins: one demo login per role, as a table a newcomer can read."""
import unicodedata

from django.core.management.base import BaseCommand

from gridmap.core.models import Role
from gridmap.demo import selectors, services
from gridmap.grids.models import Level

ROLE_LABELS = {
    (Role.CENTRE_ADMIN, ""): "中心管理员 Centre admin",
    (Role.LEADER, ""): "领导 Leader (read only)",
    (Role.DEPARTMENT, Level.DISTRICT): "职能部门 Department",
    (Role.AREA_STAFF, Level.STREET): "街道干部 Street staff",
    (Role.AREA_STAFF, Level.COMMUNITY): "社区干部 Community staff",
    (Role.GRID_LEADER, Level.GRID): "网格长 Grid leader",
    (Role.GRID_WORKER, Level.GRID): "网格员 Grid worker",
    (Role.AUDITOR, ""): "审计员 Auditor (access log only)",
}


def _key(user) -> tuple[str, str]:
    return user.role, user.area.level if user.area else ""


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


class Command(BaseCommand):
    help = ("Print one login of the demo district for every role (centre, leader, department, street and "
            "community staff, grid leader, grid worker, auditor) with the area each one sees. All demo accounts "
            "share one password, GRIDMAP_DEMO_PASSWORD at load time (default gridmap-demo). Never load "
            "the demo on a public server.")

    def handle(self, *args, **options):
        users = selectors.logins()
        if not users:
            self.stdout.write("no demo accounts: run `manage.py demo_district` first")
            return
        root = selectors.district()
        rows = [("角色 Role", "用户名 Username", "密码 Password", "看到 Sees")]
        order = list(ROLE_LABELS)
        users.sort(key=lambda u: order.index(_key(u)) if _key(u) in order else len(order))
        for user in users:
            label = ROLE_LABELS.get(_key(user), user.get_role_display())
            area = user.area or root
            sees = f"{area.name} {area.code}" + (" 全区 whole district" if area == root else "")
            rows.append((label, user.username, services.DEMO_PASSWORD, sees))
        widths = [max(_width(row[i]) for row in rows) for i in range(3)]
        self.stdout.write("演示账号 Demo logins: http://127.0.0.1:8000/admin/ (same password for all; "
                          "each sees only its own area)")
        for n, row in enumerate(rows):
            self.stdout.write("  " + "  ".join(_pad(cell, w) for cell, w in zip(row, widths)) + "  " + row[3])
            if n == 0:
                self.stdout.write("  " + "  ".join("-" * w for w in widths) + "  " + "-" * _width(row[3]))
