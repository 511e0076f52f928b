"""Demo cases (演示工单) for the demo district: about 150 cases of the first street, in every state.

Every case is walked through the real services (``case_report``, ``case_act``, ``dispatch_checkin`` /
``dispatch_report``) so timelines, followers, notifications and audit rows are real. The services
stamp everything "now"; to give the demo a history, each case is then moved into the past: its
timeline events are spread over the last weeks and every timestamp of the case and its dispatches is
mapped onto that spread — the one place where fields are written directly (the services cannot report
in the past). Audit rows keep the seeding time (they are append-only). Finally the due-date sweep
flags the near-due and overdue cases, as the worker would.
"""

from __future__ import annotations

import bisect
import datetime as dt
import random
from collections import Counter
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone
from shapely.geometry import Point

from shequ.accounts.models import Department, User
from shequ.accounts.roles import Role
from shequ.cases import services
from shequ.cases.categories import ensure_categories, ensure_holidays
from shequ.cases.choices import CaseSource, CaseState
from shequ.cases.models import Case, CaseCategory, CaseEvent, Dispatch
from shequ.cases.sla import add_working_days
from shequ.registry import geo
from shequ.registry.choices import PlaceKind
from shequ.registry.models import Grid, Place

S = CaseState
# Target state → weight (of 100).
TARGETS: dict[str, int] = {S.CLOSED: 42, S.NEW: 10, S.ACCEPTED: 8, S.IN_PROGRESS: 12, S.ESCALATED: 5,
                           S.DISPATCHED: 9, S.RESOLVED: 6, S.REJECTED: 5, S.MERGED: 3}
RATINGS = (1, 2, 3, 4, 4, 4, 5, 5, 5, 5, 5)
HISTORY_DAYS = 45

# category slug → (title, description) examples; other categories get a generic text.
TEXTS: dict[str, list[tuple[str, str]]] = {
    "city_appearance": [("小区门口暴露垃圾", "小区东门外人行道上堆放生活垃圾两天无人清运，有异味。"),
                        ("沿街店招破损", "沿街商铺店招一角脱落，大风天有坠落危险。")],
    "garbage_sorting": [("垃圾箱房混投", "湿垃圾桶里混有大量塑料袋和快递盒，志愿者劝阻无效。"),
                        ("定时投放点未开放", "晚上七点投放时段箱房仍上锁，居民把垃圾放在门口。")],
    "illegal_building": [("顶楼违建阳光房", "6号楼顶楼住户正在搭建阳光房，已运来钢材。")],
    "illegal_parking": [("消防车道停放私家车", "小区主干道长期停放两辆私家车，垃圾车无法通行。")],
    "street_vendor": [("早点摊占用人行道", "地铁站出口早点摊占道经营，行人只能走机动车道。")],
    "road_facility": [("人行道地砖松动", "公交站旁人行道地砖松动翘起，老人容易绊倒。"),
                      ("路灯不亮", "小区西侧道路三盏路灯连续一周不亮。")],
    "manhole_cover": [("井盖缺失", "路口雨水井盖缺失，已用锥桶临时围挡。")],
    "waterlogging": [("雨后路面积水", "暴雨后小区出入口积水没过脚踝，车辆进出困难。")],
    "greening": [("树枝遮挡路灯", "行道树枝叶过密遮挡路灯和监控，请修剪。")],
    "lift_fault": [("电梯异响", "3号楼电梯运行时有明显异响，停靠不平层。"),
                   ("电梯停运", "12号楼电梯停运两天，高层老人出行困难。")],
    "group_rental": [("疑似群租", "502室近期频繁有多人进出，疑似隔断群租。")],
    "property_dispute": [("物业维修拖延", "楼道窗户玻璃破损报修半个月，物业一直未处理。")],
    "water_leak": [("楼上渗水", "卫生间天花板渗水，楼上住户联系不上。")],
    "fire_lane": [("楼道堆放杂物", "2号楼楼道堆放旧家具和纸箱，堵塞疏散通道。"),
                  ("电动车楼道充电", "有住户从窗口拉线在楼道给电动车充电。")],
    "fire_hazard": [("电线私拉乱接", "小区车棚内电线私拉乱接，存在火灾隐患。")],
    "noise": [("夜间装修噪声", "晚上十点后仍有装修电钻声，影响休息。"),
              ("广场舞音响过大", "小区广场傍晚广场舞音响声音过大。")],
    "falling_objects": [("高空抛物", "9号楼有人从高处扔下塑料瓶，险些砸到行人。")],
    "neighbour_dispute": [("邻里噪声纠纷", "楼上楼下因噪声多次争吵，需要调解。"),
                          ("公共区域占用纠纷", "邻居在公共走廊放置鞋柜，协商未果。")],
    "elderly_care": [("独居老人需要帮助", "楼里独居老人行动不便，近几天未见其下楼买菜。")],
    "food_safety": [("小餐馆卫生问题", "路口小餐馆后厨污水直排下水道。")],
}
RESULTS = ("已联系相关责任方现场处置完毕，经回访居民确认。", "已安排人员清理整改，拍照留存。",
           "经现场核实已整改到位。", "已协调物业限期处理，并完成复查。")


def _point_in(grid: Grid, rng: random.Random) -> tuple[float, float]:
    shape = geo.parse_area(grid.geometry)
    minx, miny, maxx, maxy = shape.bounds
    for _ in range(50):
        lon, lat = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if shape.contains(Point(lon, lat)):
            return round(lon, 6), round(lat, 6)
    point = shape.representative_point()
    return round(point.x, 6), round(point.y, 6)


class _Walker:
    """Moves one freshly reported case to its target state through the services."""

    def __init__(self, *, staff: Mapping[str, User], street: Place, rng: random.Random) -> None:
        self.staff = staff
        self.street = street
        self.rng = rng
        self.handler = staff.get(Role.DEPARTMENT_HANDLER)
        self.admin = staff.get(Role.DISTRICT_ADMIN)

    def act(self, case: Case, actor: User, action: str, **payload: Any) -> Case:
        return services.case_act(actor=actor, case=case, action=action, version=case.version, **payload)

    def community_actor(self, case: Case, first: Place) -> User:
        worker = self.staff.get(Role.COMMUNITY_WORKER)
        return worker if worker is not None and case.community_id == first.pk else self.admin  # type: ignore[return-value]

    def walk(self, case: Case, target: str, first: Place, open_cases: list[Case]) -> Case:
        if target == S.NEW:
            return case
        actor = self.community_actor(case, first)
        if target == S.REJECTED:
            return self.act(case, actor, "reject", reason="经核实不属于受理范围，已告知反映人向相关单位反映。")
        if target == S.MERGED:
            targets = [c for c in open_cases if c.community_id == case.community_id and c.pk != case.pk]
            if targets:
                return self.act(case, actor, "merge", into=targets[-1])
            target = S.ACCEPTED
        case = self.act(case, actor, "accept")
        if target == S.ACCEPTED:
            return case
        grid_worker = self.staff.get(Role.GRID_WORKER)
        if grid_worker is not None and case.community_id == first.pk and self.rng.random() < 0.7:
            case = self.act(case, actor, "assign", assignee=grid_worker)
            actor = grid_worker
        if target == S.IN_PROGRESS:
            return case if case.state == S.IN_PROGRESS else self.act(case, actor, "assign", assignee=actor)
        dispatched = target in (S.ESCALATED, S.DISPATCHED) or (target in (S.RESOLVED, S.CLOSED)
                                                                and self.rng.random() < 0.25)
        department = services.default_department(category=case.category, street=self.street) if dispatched else None
        if dispatched and department is None:
            dispatched = target in (S.ESCALATED,)
        if not dispatched:
            case = self.act(case, actor, "resolve", result=self.rng.choice(RESULTS))
            if target == S.RESOLVED:
                return case
            return self.act(case, self.community_actor(case, first), "close")
        case = self.act(case, actor, "escalate", reason="涉及执法事项，社区无法独立处置，申请街道协调。")
        if target == S.ESCALATED or department is None:
            return case
        officer = self.staff.get(Role.STREET_OFFICER) or self.admin
        assert officer is not None
        due = timezone.now() + dt.timedelta(days=5)
        case = self.act(case, officer, "dispatch",
                        tasks=[{"department": department, "task": f"请现场核查并处置：{case.title}", "due_at": due}])
        dispatch = case.dispatches.order_by("-id").first()
        if self.handler is None or dispatch is None or dispatch.department_id != self.handler.department_id:
            return case
        if target == S.DISPATCHED and self.rng.random() < 0.5:
            return case
        dispatch = services.dispatch_checkin(actor=self.handler, dispatch=dispatch)
        if target == S.DISPATCHED:
            return case
        services.dispatch_report(actor=self.handler, dispatch=dispatch, report=self.rng.choice(RESULTS))
        case = Case.objects.get(pk=case.pk)
        case = self.act(case, officer, "verify")
        if target == S.RESOLVED:
            return case
        return self.act(case, officer, "close")


def _reporter(rng: random.Random, staff: Mapping[str, User], resident: User | None, first_community: bool
              ) -> tuple[User, str]:
    if not first_community:
        admin = staff[Role.DISTRICT_ADMIN]
        return admin, rng.choice([CaseSource.HOTLINE, CaseSource.WORKER])
    roll = rng.random()
    if resident is not None and roll < 0.4:
        return resident, CaseSource.RESIDENT
    if roll < 0.75 and Role.GRID_WORKER in staff:
        return staff[Role.GRID_WORKER], CaseSource.GRID_PATROL
    return staff.get(Role.COMMUNITY_WORKER) or staff[Role.DISTRICT_ADMIN], rng.choice(
        [CaseSource.HOTLINE, CaseSource.WORKER])


def _to_the_past(case: Case, *, created: dt.datetime, rng: random.Random, now: dt.datetime) -> None:
    """Spread the case's timeline from ``created`` on (each step 10 minutes to 3 days later, never past
    ``now``) and map every timestamp of the case and its dispatches onto it. Written directly: the
    services can only act "now"."""
    events = list(CaseEvent.objects.filter(case=case).order_by("at", "id"))
    if not events:
        return
    real = [e.at for e in events]
    fake = [created]
    room = (now - created) / max(1, len(events))
    for event in events[1:]:
        gap = dt.timedelta(minutes=rng.uniform(10, 180)) if event.action in ("accept", "reject", "assign") else \
            dt.timedelta(minutes=rng.uniform(60, 3 * 1440))
        fake.append(min(fake[-1] + min(gap, room), now - dt.timedelta(minutes=1)))

    def moved(value: dt.datetime | None) -> dt.datetime | None:
        if value is None:
            return None
        i = max(0, bisect.bisect_right(real, value) - 1)
        return fake[i] + max(dt.timedelta(0), min(value - real[i], dt.timedelta(seconds=1)))

    for event, at in zip(events, fake, strict=True):
        CaseEvent.objects.filter(pk=event.pk).update(at=at)
    category: CaseCategory = case.category
    Case.objects.filter(pk=case.pk).update(
        created_at=created, updated_at=fake[-1], accepted_at=moved(case.accepted_at),
        resolved_at=moved(case.resolved_at), closed_at=moved(case.closed_at),
        accept_due_at=created + dt.timedelta(hours=category.accept_hours),
        resolve_due_at=add_working_days(created, category.resolve_days), near_due=False, overdue=False,
    )
    for dispatch in Dispatch.objects.filter(case=case):
        start = moved(dispatch.created_at) or created
        Dispatch.objects.filter(pk=dispatch.pk).update(
            created_at=start, updated_at=start, checked_in_at=moved(dispatch.checked_in_at),
            reported_at=moved(dispatch.reported_at), checkin_due_at=start + dt.timedelta(hours=category.checkin_hours),
            due_at=add_working_days(start, category.resolve_days), overdue=False,
        )


@transaction.atomic
def seed_demo_cases(*, street: Place, staff: Mapping[str, User], resident: User | None = None, count: int = 150,
                    seed: int = 4) -> Counter[str]:
    """About ``count`` cases in the communities of ``street`` (most in the first one, where the demo staff
    work), walked through the services to every state, then moved into the last weeks. Returns counts."""
    rng = random.Random(seed)
    ensure_categories()
    ensure_holidays(timezone.localdate().year)
    counts: Counter[str] = Counter()
    if Role.DISTRICT_ADMIN not in staff:
        return counts
    communities = list(Place.objects.filter(parent=street, kind=PlaceKind.COMMUNITY).order_by("path"))
    grids = {c.pk: list(Grid.objects.filter(community=c).order_by("code")) for c in communities}
    communities = [c for c in communities if grids[c.pk]]
    if not communities:
        return counts
    first = communities[0]
    leaves = list(CaseCategory.objects.filter(parent__isnull=False, active=True).order_by("sort", "slug"))
    if Department.objects.filter(kind=Department.Kind.URBAN_MANAGEMENT).exists():
        # dispatchable categories are more frequent, as they are in practice
        leaves += [c for c in leaves if c.default_department_kind == Department.Kind.URBAN_MANAGEMENT]
    targets = [state for state, weight in TARGETS.items() for _ in range(weight)]
    walker = _Walker(staff=staff, street=street, rng=rng)
    now = timezone.now()
    open_cases: list[Case] = []
    for _ in range(count):
        community = first if rng.random() < 0.6 else rng.choice(communities)
        grid = rng.choice(grids[community.pk])
        lon, lat = _point_in(grid, rng)
        category = rng.choice(leaves)
        texts = TEXTS.get(category.slug) or [(category.name, f"{category.name}问题，请尽快处理。")]
        title, description = rng.choice(texts)
        actor, source = _reporter(rng, staff, resident, community.pk == first.pk)
        target = rng.choice(targets)
        if actor == resident and target == S.MERGED:
            target = S.CLOSED
        case = services.case_report(actor=actor, category=category, title=title, description=description,
                                    source=source, lon=lon, lat=lat, contact_phone="13900001111"
                                    if source == CaseSource.RESIDENT else "")
        case = walker.walk(case, target, first, open_cases)
        if case.state == S.CLOSED and case.reporter_id is not None and resident is not None \
                and case.reporter_id == resident.pk:
            rating = rng.choice(RATINGS)
            case = services.case_act(actor=resident, case=case, action="rate", version=case.version,
                                     rating=rating, comment="处理及时，谢谢！" if rating >= 4 else "问题没有彻底解决。")
            if rating <= 2 and rng.random() < 0.5:
                case = services.case_act(actor=resident, case=case, action="reopen", version=case.version,
                                         reason="问题仍然存在，请再次处理。")
        if case.state in (S.NEW, S.ACCEPTED, S.IN_PROGRESS):
            open_cases.append(case)
        age = dt.timedelta(days=rng.uniform(0, 3) if case.state == S.NEW else rng.uniform(0.5, HISTORY_DAYS))
        _to_the_past(case, created=now - age, rng=rng, now=now)
        counts["case"] += 1
        counts[f"case:{case.state}"] += 1
    try:
        from shequ.cases.tasks import sweep_due_cases
    except ImportError:  # pragma: no cover - the sweep is FLOW's; without it no flags are set
        return counts
    swept = sweep_due_cases(now=now)
    counts.update({f"sweep:{k}": v for k, v in swept.items() if isinstance(v, int)})
    return counts
