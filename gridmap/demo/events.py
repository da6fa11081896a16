"""Demo events: over a year of street reports through the real service (placement, routing,
clock), the older ones worked to a close (a few returned to their handler first), recent ones
still open and a few overdue, so the map, the inboxes and the leaders' views (heatmaps, hotspots,
trends, assessment) have something to show. Disputes and hazards gather around a few trouble
spots each, as they do in a real district. Drawn from the seed, dated back from `today`."""
import datetime as dt
import math
import random
import uuid

import numpy as np

from gridmap.core import clock
from gridmap.core.models import Role, User
from gridmap.events import services
from gridmap.events.calendar import TZ
from gridmap.events.models import Category, Channel, Urgency
from gridmap.events.workflow import Action
from gridmap.places.models import Building

EVENTS_PER_STREET = 900
HISTORY_DAYS = 400  # last quarter and the year before it have their figures
SPOT_SHARE = 0.7  # of the disputes (and of the hazards) reported around their trouble spots
SPOT_RADIUS_M = 350  # a trouble spot covers the buildings this close to it: a grid or two
# (category code, weight, what a patroller writes)
REPORTS = [
    ("0101", 12, "邻居装修噪音扰民，双方争吵"), ("0102", 4, "家庭矛盾，夫妻争吵，需调解"),
    ("0103", 6, "工地拖欠农民工工资"), ("0104", 6, "业主与物业因停车费发生纠纷"),
    ("0201", 8, "楼道堆放电动车充电，存在消防隐患"), ("0203", 5, "餐馆燃气管道老化有异味"),
    ("0204", 5, "私拉乱接电线"), ("0202", 3, "外墙瓷砖脱落"), ("0206", 3, "路口红绿灯损坏"),
    ("0401", 12, "小区门口垃圾堆放未清运"), ("0402", 8, "占道经营，影响通行"),
    ("0404", 8, "井盖缺失"), ("03", 4, "夜间聚众喧哗"), ("05", 6, "老人申请居家养老服务"),
]


def load_demo_events(*, seed: int, today: dt.date, count: int) -> int:
    rng = random.Random(f"events-{seed}")
    categories = {c.code: c for c in Category.objects.filter(code__in=[code for code, _w, _t in REPORTS])}
    reporters = list(User.objects.filter(role=Role.GRID_WORKER).order_by("username"))
    points = list(Building.objects.filter(grid__isnull=False).order_by("code").values_list("location", flat=True))
    if not (categories and reporters and points):
        return 0
    weights = [w for _c, w, _t in REPORTS]
    spots = {kind: _spots(points, rng) for kind in ("01", "02")}
    now, made = clock.now(), 0
    for _ in range(count):
        code, _w, text = rng.choices(REPORTS, weights)[0]
        kind = code[:2]
        if kind in spots and rng.random() < SPOT_SHARE:
            point = points[rng.choice(rng.choice(spots[kind]))]
        else:
            point = rng.choice(points)
        days_ago = rng.randint(0, HISTORY_DAYS)
        at = dt.datetime.combine(today - dt.timedelta(days=days_ago), dt.time(rng.randint(8, 19), rng.randint(0, 59)), tzinfo=TZ)
        if at > now:
            continue  # a report later today has not happened yet
        event = services.report_event(
            reporter=rng.choice(reporters), category=categories[code],
            lon=point.x + rng.uniform(-0.0002, 0.0002), lat=point.y + rng.uniform(-0.0002, 0.0002),
            description=text, channel=rng.choices(list(Channel.values), [60, 25, 10, 5, 0])[0],
            urgency=rng.choices(list(Urgency.values), [85, 12, 3])[0],
            client_id=uuid.UUID(int=rng.getrandbits(128)), now=at,
        ).event
        _work(event, rng, at, days_ago, now)
        made += 1
    return made


def _spots(points, rng: random.Random) -> list[list[int]]:
    """Trouble spots, each the buildings (indices of `points`) within SPOT_RADIUS_M of a centre."""
    xy = np.array([(p.x, p.y) for p in points])
    scale = np.array([111_320 * math.cos(math.radians(xy[:, 1].mean())), 110_574])  # metres per degree
    spots = []
    for centre in rng.sample(range(len(points)), max(1, len(points) // 300)):
        near = np.flatnonzero((((xy - xy[centre]) * scale) ** 2).sum(axis=1) <= SPOT_RADIUS_M ** 2)
        spots.append(near.tolist())
    return spots


def _work(event, rng: random.Random, at: dt.datetime, days_ago: int, now: dt.datetime) -> None:
    """Older events are handled and closed, nearly all of them; recent ones are still in hand.
    No step is dated after `now`."""
    settled = days_ago > 20
    if event.assignee is None or days_ago < 2 or rng.random() < (0.02 if settled else 0.2):
        return
    handler, step = event.assignee, at + dt.timedelta(hours=rng.randint(1, 6))
    if step > now:
        return
    services.act(event.pk, Action.START, handler, now=step)
    if rng.random() < (0.02 if settled else 0.25):
        return  # still being handled (some of these will be overdue)
    verifier = event.area.parent.leader if event.area and event.area.parent else None
    for attempt in range(2):
        step += dt.timedelta(hours=rng.randint(4, 60))
        if step > now:
            return
        services.act(event.pk, Action.REPLY, handler, note="已现场处置完毕", now=step)
        if verifier is None:
            return
        step += dt.timedelta(hours=rng.randint(2, 24))
        if step > now:
            return
        if attempt == 0 and rng.random() < 0.08:
            services.act(event.pk, Action.RETURN, verifier, note="现场核查未整改到位，退回重办", now=step)
            continue
        services.act(event.pk, Action.VERIFY, verifier, now=step)
        if rng.random() < 0.5:
            rating = rng.choices(["very_satisfied", "satisfied", "average", "dissatisfied"], [40, 45, 10, 5])[0]
            services.act(event.pk, Action.RATE, verifier, satisfaction=rating, now=step)
        return
