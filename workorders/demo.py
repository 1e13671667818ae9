"""Demo data of the work-order app: dispatch rules, policies, calendar, and orders in every state.

Runs after the intake demo. Each scenario is an appeal with a fixed external id, so running the
loader twice finds it and adds nothing. Orders are moved through the real services; only their
clock is set back afterwards (demo data only) so that some are overdue and urged.
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import F
from django.utils import timezone

from intake.models import Appeal, AppealEvent, Category
from units import demo as units_demo
from units.models import Unit, User

from . import services
from .models import CategoryRule, JurisdictionRule, SupervisionRule, WorkOrder, WorkOrderEvent
from .workdays import seed_known_years

CATEGORY_RULES = {
    "TRAFFIC": "LJ020",
    "HOUSEHOLD": "LJ030",
    "LAW": "LJ040",
    "CONDUCT": "LJ050",
    "ORDER": "LJ060",
    "FRAUD": "LJ060",
}
JURISDICTION_RULES = [
    ("street", "滨江路", "LJ101"),
    ("street", "滨江街道", "LJ101"),
    ("community", "江滨社区", "LJ101"),
    ("street", "北湖路", "LJ102"),
    ("community", "北湖社区", "LJ102"),
    ("street", "南门大街", "LJ201"),
    ("street", "新华路", "LJ202"),
    ("keyword", "科技园", "LJ301"),
    ("keyword", "湖滨", "LJ302"),
    ("keyword", "城关镇", "LJ401"),
    ("keyword", "河口镇", "LJ402"),
]
SUPERVISION_RULES = [
    ("同一诉求人30天内重复诉求3次", "repeat", {"min_appeals": 3, "days": 30}),
    ("派单后10个工作日未办结", "long_unresolved", {"working_days": 10}),
    ("7天内5名以上群众反映同一问题", "group", {"min_citizens": 5, "days": 7}),
]

# key, channel, category, severity, address, citizen, phone, content, unit, final state, age in days
SCENARIOS = [
    ("01", "hotline", "ORDER-NOISE", "blue", "临江市江北区滨江路18号", "王秀英", "13800000201",
     "楼下烧烤店每晚营业到凌晨两点，油烟和噪音严重影响休息。", "LJ101", "dispatched", 0),
    ("02", "hotline", "ORDER-NOISE", "yellow", "江北区滨江街道江滨社区7栋", "李国强", "13800000202",
     "小区内有人夜间聚集喝酒喧哗，多次报警未解决。", "LJ101", "dispatched_overdue", 6),
    ("03", "mayor_mailbox", "HOUSEHOLD-MOVE", "blue", "江北区滨江路66号", "张丽", "13800000203",
     "孩子随迁落户材料已交一个月，至今没有答复。", "LJ101", "in_progress", 2),
    ("04", "12345", "TRAFFIC-PARK", "yellow", "江北区北湖路与北湖二街交叉口", "刘伟", "13800000204",
     "路口长期有车辆违停，早晚高峰堵塞严重。", "LJ102", "feedback_submitted", 3),
    ("05", "hotline", "CONDUCT-ATTITUDE", "orange", "江北区北湖社区警务室", "陈静", "13800000205",
     "到社区警务室办事，民警态度生硬，不耐烦。", "LJ102", "returned", 2),
    ("06", "hotline", "LAW-PROGRESS", "yellow", "江北区滨江路120号", "赵军", "13800000206",
     "电动车被盗报案两个月，想了解案件进展。", "LJ101", "closed", 9),
    ("07", "12345", "ORDER-NOISE", "blue", "江北区北湖路8号", "孙梅", "13800000207",
     "装修噪音周末早上七点就开始，物业不管。", "LJ102", "closed", 12),
    ("08", "hotline", "FRAUD", "red", "江北区滨江街道", "周明", "13800000208",
     "刚接到自称公检法的电话要求转账，已转出两万元，请求帮助止付。", "LJ101", "signed", 0),
    ("09", "hotline", "ORDER-FIGHT", "orange", "高新区科技园南路", "吴磊", "13800000209",
     "科技园夜市经常有人酒后滋事，群众不敢出门。", "LJ301", "approved", 4),
    ("10", "director_mailbox", "LAW-UNFAIR", "orange", "江南区南门大街22号", "郑华", "13800000210",
     "交通事故责任认定不公，要求复核。", "LJ201", "extension_requested", 3),
    ("11", "hotline", "ORDER-NOISE", "yellow", "江北区北湖路17号", "钱芳", "13800000211",
     "广场舞音响声音过大，晚上十点后仍不停。", "LJ101", "handed_back", 1),
    ("12", "hotline", "HOUSEHOLD-ID", "blue", "江北区滨江路3号", "冯涛", "13800000212",
     "身份证补办超过承诺时限仍未领到。", "LJ101", "listed_overdue", 15),
    ("13", "12389", "CONDUCT-INACTION", "orange", "临江县城关镇东街", "何平", "13800000213",
     "多次反映邻居私搭乱建引发纠纷，派出所推诿不处理。", "LJ401", "listed", 5),
    ("14", "hotline", "TRAFFIC-ACCIDENT", "yellow", "江北区滨江路与江滨大道交叉口", "韩雪", "13800000214",
     "交通事故处理完毕后对方拒不赔偿，希望交警协调。", "LJ101", "reopened", 10),
    ("15", "hotline", "ORDER-NOISE", "blue", "江北区滨江街道江滨社区3栋", "林燕", "13800000215",
     "小区门口夜间常有货车鸣笛卸货，影响居民休息。", "LJ101", "sub_dispatched", 1),
]  # fmt: skip


def _users() -> dict[str, User]:
    return {
        u.username: u
        for u in User.objects.filter(username__in=["center", "handler", "leader", "handler2", "supervisor"])
    }


def _unit_user(order: WorkOrder, users: dict[str, User]) -> User:
    if order.unit.code == "LJ102":
        return users["handler2"]
    if order.unit.code == "LJ101":
        return users["handler"]
    user, created = User.objects.get_or_create(
        username=f"demo_{order.unit.code.lower()}",
        defaults={"role": "unit_handler", "unit": order.unit, "last_name": order.unit.name[:2], "first_name": "民警"},
    )
    if created:
        user.set_unusable_password()
        user.save()
    return user


def _age(order: WorkOrder, days: int) -> None:
    """Set an order's clock back (demo only), so that deadlines have passed as they would have."""
    if not days:
        return
    delta = timedelta(days=days)
    fields = ["dispatched_at", "due_at", "sign_deadline", "next_urge_at", "signed_at", "feedback_at", "closed_at"]
    WorkOrder.objects.filter(pk=order.pk).update(**{f: F(f) - delta for f in fields})
    WorkOrderEvent.objects.filter(order=order).update(created_at=F("created_at") - delta)
    Appeal.objects.filter(pk=order.appeal_id).update(received_at=F("received_at") - delta)
    order.refresh_from_db()


def _finish_feedback(order: WorkOrder, user: User, text: str) -> None:
    services.submit_feedback(order, actor=user, text=text, result="resolved", contact_method="phone")


def _play(order: WorkOrder, state: str, users: dict[str, User]) -> None:
    unit_user = _unit_user(order, users)
    center, supervisor = users["center"], users["supervisor"]
    if state in ("dispatched", "dispatched_overdue"):
        return
    if state == "sub_dispatched":
        room = Unit.objects.get(code=units_demo.POLICE_ROOMS[0][0])
        services.sub_dispatch(order, actor=users["leader"], unit=room, note="请社区警务室上门核实，联系诉求人。")
        return
    if state == "handed_back":
        services.hand_back(order, actor=unit_user, reason="该地址属北湖派出所辖区，请重新派单。")
        return
    services.sign_for(order, actor=unit_user)
    if state == "signed":
        return
    services.start(order, actor=unit_user)
    if state in ("in_progress", "listed_overdue"):
        if state == "listed_overdue":
            services.list_order(order, actor=supervisor, reason="超期未办结，群众多次催问")
        return
    if state == "listed":
        services.list_order(order, actor=supervisor, reason="群众反映推诿，督察支队挂牌督办")
        return
    if state == "extension_requested":
        services.request_extension(order, actor=unit_user, days=3, reason="需调取事故现场监控并重新询问双方当事人。")
        return
    _finish_feedback(order, unit_user, "已联系诉求人并到现场核实，责令相关人员整改，诉求人表示认可。")
    if state == "feedback_submitted":
        return
    if state == "returned":
        services.return_for_rework(order, actor=center, reason="反馈未说明是否当面向群众致歉，请补充。")
        return
    services.approve(order, actor=center, note="反馈属实。")
    if state == "approved":
        return
    services.close(order, actor=center, reply="您反映的问题已由属地派出所核实处理，感谢您对公安工作的监督。")
    if state == "reopened":
        services.reopen(order, actor=center, reason="回访群众表示对方仍未赔偿，不满意属实，请继续协调。")


def dispatch_triaged_demo_appeals() -> int:
    """Dispatch, as the center would, the intake demo's appeals triaged for their station, and put
    the dispatch on their timeline just after the triage (demo only: the services stamp "now")."""
    from intake.demo import TO_DISPATCH_NOTE
    from intake.services import Action as AppealAction

    center = User.objects.filter(username="center").first()
    marked = AppealEvent.objects.filter(action=AppealAction.MARKED_FOR_DISPATCH, note=TO_DISPATCH_NOTE)
    appeals = Appeal.objects.filter(
        status="pending_dispatch", proposed_unit__isnull=False, pk__in=marked.values("appeal_id")
    ).select_related("proposed_unit")
    done = 0
    for appeal in appeals:
        at = marked.filter(appeal=appeal).values_list("created_at", flat=True).last()
        services.dispatch_appeal(appeal, unit=appeal.proposed_unit, actor=center, note="请按时限办理并反馈。")
        AppealEvent.objects.filter(appeal=appeal, action=AppealAction.DISPATCHED).update(
            created_at=at + timedelta(minutes=7)
        )
        done += 1
    return done


def load(stdout=None) -> None:
    seed_known_years(first=timezone.localdate().year - 1)
    units_demo.load_police_rooms()
    services.ensure_default_policies()
    dispatch_triaged_demo_appeals()
    for code, unit_code in CATEGORY_RULES.items():
        category = Category.objects.filter(code=code).first()
        unit = Unit.objects.filter(code=unit_code).first()
        if category and unit:
            CategoryRule.objects.update_or_create(category=category, defaults={"unit": unit})
    for kind, pattern, unit_code in JURISDICTION_RULES:
        unit = Unit.objects.filter(code=unit_code).first()
        if unit:
            JurisdictionRule.objects.update_or_create(pattern=pattern, defaults={"kind": kind, "unit": unit})
    for name, kind, params in SUPERVISION_RULES:
        SupervisionRule.objects.get_or_create(name=name, defaults={"kind": kind, "params": params})

    users = _users()
    if len(users) < 5:
        return
    from intake.services import create_appeal

    made = 0
    for key, channel, category_code, severity, address, name, phone, content, unit_code, state, age in SCENARIOS:
        appeal, _created = create_appeal(
            channel=channel,
            external_id=f"DEMO-WO-{key}" if channel in ("12345", "12389") else f"demo-wo-{key}",
            content=content,
            citizen_name=name,
            citizen_phone=phone,
            address=address,
            category=Category.objects.filter(code=category_code).first(),
            severity=severity,
            actor=users["center"],
        )
        if appeal.work_orders.exists():
            continue
        unit = Unit.objects.get(code=unit_code)
        order = services.dispatch_appeal(appeal, unit=unit, actor=users["center"])
        _play(order, state, users)
        _age(order, age)
        made += 1
    services.urge_due_orders()
    if stdout:
        stdout.write(f"workorders: {made} new demo orders, {WorkOrder.objects.count()} in all")
