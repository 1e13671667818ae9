"""A generated history of closed appeals to train and show the routing model on (``manage.py
routing_demo_history``). Every sentence is assembled from the templates below at random: the
wording varies by category and place, and nothing is taken from real appeals.

Who handled what follows how a city bureau works, which the rules only half know: parking and
accidents go to the district's traffic brigade (the category rule says the traffic detachment),
household registration and neighbourhood order to the station of the place, exit permits to the
population detachment, conduct to the inspectorate. Some addresses name no street a jurisdiction
rule knows (only the estate), and one order in ten was first sent to the wrong unit and handed back.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from intake.models import Appeal, Category
from units.models import Unit
from workorders.choices import Action, WorkOrderStatus
from workorders.models import WorkOrder, WorkOrderEvent

# station code -> places in its area (street addresses and estate names)
PLACES = {
    "LJ101": ["江北区滨江路{n}号", "江滨花园{b}栋", "滨江街道望江小区", "江北区滨江菜市场", "滨江公园东门"],
    "LJ102": ["江北区北湖路{n}号", "北湖新村{b}栋", "北湖社区枫林苑", "北湖体育馆", "北湖小学门口"],
    "LJ201": ["江南区南门大街{n}号", "南门菜市场", "南门街道古城巷", "南门汽车站", "锦绣南苑{b}栋"],
    "LJ202": ["江南区新华路{n}号", "新华商业广场", "新华街道幸福里", "新华医院后门", "金桥公寓{b}栋"],
    "LJ301": ["高新区科技大道{n}号", "软件园{b}号楼", "创新港人才公寓", "科技园地铁站", "云谷产业园"],
    "LJ302": ["高新区湖滨路{n}号", "湖滨花城{b}栋", "湖滨湿地公园", "星湖湾小区", "湖滨农贸市场"],
    "LJ401": ["临江县城关镇人民路{n}号", "城关镇东街", "县人民医院", "城关二中门口", "县城汽车站"],
    "LJ402": ["临江县河口镇{n}号", "河口镇中心小学", "河口码头", "河口镇集贸市场", "河口村委会旁"],
}

OPENERS = ["", "您好，", "我要反映一个问题：", "本人是附近居民，", "反映人称：", "来电反映：", "市民来信："]
CLOSERS = ["", "希望尽快处理。", "请有关部门管一管。", "已经反映过多次了。", "希望给个答复。", "谢谢！", "盼回复。"]
WHEN = ["昨天晚上", "最近一个月", "每天早上", "上周末", "这几天", "今天下午", "前天夜里", "近半年来"]

# category code -> (kinds, who handles it: "station" | "brigade" | "district" | a unit code, templates)
CATEGORIES = {
    "TRAFFIC-PARK": (
        ["complaint", "suggestion"],
        "brigade",
        [
            "{place}门口{when}总有车辆乱停乱放，把消防通道都堵死了。",
            "{place}路边违停严重，大货车占道，行人只能走机动车道。",
            "建议在{place}附近增设停车位，{when}违章停车越来越多。",
        ],
    ),
    "TRAFFIC-ACCIDENT": (
        ["help", "complaint"],
        "brigade",
        [
            "{when}在{place}发生交通事故，对方车辆逃逸，请求调取监控。",
            "{place}路口{when}两车追尾，事故认定书迟迟没有出来。",
            "我的电动车在{place}被轿车撞了，交警处理后对方一直不赔偿。",
        ],
    ),
    "TRAFFIC-JAM": (
        ["suggestion", "complaint"],
        "brigade",
        [
            "{place}早晚高峰拥堵严重，红绿灯时间设置不合理。",
            "{when}{place}一带堵车一个多小时，希望派交警疏导。",
        ],
    ),
    "TRAFFIC-VEHICLE": (
        ["consultation", "complaint"],
        "LJ020",
        [
            "咨询驾驶证到期换证需要哪些材料，能否网上办理。",
            "在车管所办理机动车年检排队太久，窗口只开了两个。",
            "车辆过户手续{when}办了三次都没办成，每次要求的材料都不一样。",
        ],
    ),
    "HOUSEHOLD-MOVE": (
        ["consultation", "help"],
        "station",
        [
            "孩子要上学，想把户口迁到{place}，派出所说材料不全。",
            "{when}去辖区派出所办理户口迁入，住在{place}，请问需要准备什么。",
        ],
    ),
    "HOUSEHOLD-ID": (
        ["help", "complaint"],
        "station",
        [
            "身份证丢了，住{place}，补办要多久？能不能加急。",
            "{when}在派出所办身份证，拍照后说系统故障让改天再来，我住{place}。",
        ],
    ),
    "HOUSEHOLD-EXIT": (
        ["consultation"],
        "LJ030",
        [
            "办理港澳通行证签注需要预约吗？在哪里办。",
            "护照快到期了，出国留学急用，能否加急办理。",
        ],
    ),
    "LAW-PROGRESS": (
        ["help", "complaint"],
        "station",
        [
            "我在{place}被盗的电动车报案已经{when}了，一直没有进展。",
            "{when}在{place}家里被盗报了警，想了解案件侦办进度。",
        ],
    ),
    "LAW-UNFAIR": (
        ["complaint"],
        "LJ040",
        [
            "对行政处罚决定不服，认为处罚过重，事实认定有误。",
            "认为办案民警取证程序不合法，申请复核。",
        ],
    ),
    "CONDUCT-ATTITUDE": (
        ["complaint"],
        "LJ050",
        [
            "{when}到窗口办事，民警态度生硬，不耐烦地把材料扔回来。",
            "接警员说话很不客气，我只是问了两句就挂了电话。",
        ],
    ),
    "CONDUCT-INACTION": (
        ["complaint"],
        "LJ050",
        [
            "报警后民警{when}才到现场，到了也不处理，推给其他部门。",
            "多次反映问题都石沉大海，没人管，属于不作为。",
        ],
    ),
    "ORDER-NOISE": (
        ["complaint"],
        "station",
        [
            "{place}楼下广场舞音响{when}声音太大，晚上九点半以后还在跳。",
            "{place}附近的烧烤摊{when}吵到凌晨两点，严重影响休息。",
            "{place}有一户人家{when}装修噪音扰民，周末也不停。",
        ],
    ),
    "ORDER-FIGHT": (
        ["help", "clue"],
        "station",
        [
            "{when}在{place}有人酒后打架，有人受伤流血。",
            "{place}门口两伙人因为停车发生冲突，差点动手。",
        ],
    ),
    "ORDER-VICE": (
        ["clue"],
        "station",
        [
            "举报{place}附近一家棋牌室{when}聚众赌博，进出人员很多。",
            "{place}一出租屋疑似有卖淫嫖娼活动，晚上人员出入频繁。",
        ],
    ),
    "FRAUD": (
        ["help", "clue"],
        "station",
        [
            "{when}接到冒充客服的电话，被骗转账两万元，住{place}，已报案。",
            "家里老人在{place}被人以保健品名义骗了钱，请求帮助追回。",
            "网上刷单被骗，对方让我一直垫付，我住{place}。",
        ],
    ),
    "ENTERPRISE": (
        ["help", "complaint"],
        "district",
        [
            "我们公司在{place}，{when}有人在门口堵门闹事，影响正常经营。",
            "{place}的企业反映工地材料{when}多次被盗，请求加强巡逻。",
        ],
    ),
}
CHANNELS = ["hotline"] * 5 + ["12345"] * 3 + ["mayor_mailbox", "director_mailbox", "message_board", "12389"]


def _unit_for(handler: str, station: str) -> str:
    if handler == "station":
        return station
    if handler == "brigade":
        return station[:4] + "3"
    if handler == "district":
        return station[:4] + "0"
    return handler


def _text(category: str, station: str, rnd: random.Random) -> tuple[str, str, str]:
    kinds, _handler, templates = CATEGORIES[category]
    place = rnd.choice(PLACES[station]).format(n=rnd.randint(1, 300), b=rnd.randint(1, 30))
    body = rnd.choice(templates).format(place=place, when=rnd.choice(WHEN))
    content = f"{rnd.choice(OPENERS)}{body}{rnd.choice(CLOSERS)}"
    # Most appeals carry an address; some only name the place in the text.
    address = (
        ""
        if rnd.random() < 0.2
        else (place if place.startswith(("江北区", "江南区", "高新区", "临江县")) else f"临江市{place}")
    )
    return content, address, rnd.choice(kinds)


def generate(*, months: int = 12, per_day: int = 40, seed: int = 7, now: datetime | None = None) -> int:
    """Create ``months`` of closed appeals (about ``per_day`` a day) and their closed orders.

    Needs the demo city's units and categories. Returns the number of appeals made.
    """
    rnd = random.Random(seed)
    now = now or timezone.now()
    units = {u.code: u for u in Unit.objects.filter(code__startswith="LJ")}
    categories = {c.code: c for c in Category.objects.filter(code__in=CATEGORIES)}
    missing = [c for c in CATEGORIES if c not in categories]
    if missing or "LJ101" not in units:
        raise ValueError(f"the demo city is not loaded (missing {missing or 'units'}): run load_demo first")
    stations = list(PLACES)
    codes = list(CATEGORIES)
    weights = [3 if c.startswith(("ORDER", "TRAFFIC")) else 2 if c in ("FRAUD", "HOUSEHOLD-ID") else 1 for c in codes]
    made = 0
    start = now - timedelta(days=30 * months)
    day = 0
    while True:
        batch_start = start + timedelta(days=day)
        if batch_start >= now - timedelta(days=1):
            break
        appeals, plan = [], []
        for d in range(min(15, (now - batch_start).days)):
            for _i in range(max(1, int(rnd.gauss(per_day, per_day / 5)))):
                at = batch_start + timedelta(days=d, seconds=rnd.randint(8 * 3600, 21 * 3600))
                if at >= now - timedelta(hours=6):
                    continue
                category, station = rnd.choices(codes, weights)[0], rnd.choice(stations)
                content, address, kind = _text(category, station, rnd)
                unit_code = _unit_for(CATEGORIES[category][1], station)
                if rnd.random() < 0.04:  # the real world is noisy: a neighbour station took it
                    unit_code = rnd.choice(stations)
                closed_at = at + timedelta(days=rnd.randint(1, 6), hours=rnd.randint(0, 8))
                appeals.append(
                    Appeal(
                        channel=rnd.choice(CHANNELS),
                        kind=kind,
                        category=categories[category],
                        severity="blue",
                        status="closed",
                        content=content,
                        address=address,
                        citizen_name=rnd.choice("赵钱孙李周吴郑王") + rnd.choice(["先生", "女士"]),
                        received_at=at,
                        closed_at=min(closed_at, now),
                        public_reply="您反映的问题已转交责任单位核实处理。",
                        unit=units[unit_code],
                    )
                )
                plan.append((units[unit_code], at, min(closed_at, now), rnd.random() < 0.1, station))
        day += 15
        if not appeals:
            continue
        with transaction.atomic():
            Appeal.objects.bulk_create(appeals, batch_size=2000)
            orders, events = [], []
            for appeal, (unit, at, closed_at, handed_back, station) in zip(appeals, plan, strict=True):
                if handed_back:
                    wrong = units[rnd.choice([s for s in stations if s != station])]
                    orders.append(
                        WorkOrder(
                            appeal=appeal,
                            unit=wrong,
                            status=WorkOrderStatus.HANDED_BACK,
                            dispatched_at=at,
                            due_at=at + timedelta(days=5),
                            handback_reason="不属于本单位辖区。",
                        )
                    )
                orders.append(
                    WorkOrder(
                        appeal=appeal,
                        unit=unit,
                        status=WorkOrderStatus.CLOSED,
                        dispatched_at=at + timedelta(hours=2 if handed_back else 0),
                        due_at=at + timedelta(days=7),
                        closed_at=closed_at,
                        closed_on_time=True,
                        reply_text="已核实处理。",
                    )
                )
            WorkOrder.objects.bulk_create(orders, batch_size=2000)
            for o in orders:
                if o.status == WorkOrderStatus.HANDED_BACK:
                    events.append(
                        WorkOrderEvent(
                            order=o,
                            action=Action.HAND_BACK,
                            note=o.handback_reason,
                            created_at=o.dispatched_at + timedelta(hours=1),
                            from_status=WorkOrderStatus.DISPATCHED,
                            to_status=WorkOrderStatus.HANDED_BACK,
                        )
                    )
                else:
                    events.append(
                        WorkOrderEvent(
                            order=o, action=Action.CLOSE, created_at=o.closed_at, to_status=WorkOrderStatus.CLOSED
                        )
                    )
            WorkOrderEvent.objects.bulk_create(events, batch_size=2000)
            Appeal.objects.filter(pk__in=[a.pk for a in appeals]).refresh_scope()
            WorkOrder.objects.filter(pk__in=[o.pk for o in orders]).refresh_scope()
        made += len(appeals)
    # The orders were written in bulk (no model signals): recount the monthly hand-back figures.
    from .services import rebuild_handback_months

    rebuild_handback_months()
    return made
