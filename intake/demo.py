"""Demo data of the intake app: the category tree, risk words, and two months of appeals.

About three hundred appeals of the demo city 临江市 from every channel, with repeat callers,
risk words and enterprise appeals; the last two days are still waiting on the desk, like a
Monday morning. Every appeal has a demo external id, so loading twice creates nothing new.
Names are invented; phones are 1380000xxxx only.
"""

from __future__ import annotations

import random
from datetime import timedelta

from django.utils import timezone

from units.choices import Role
from units.models import Unit, User

from . import services
from .choices import AppealStatus, Channel, Kind, Severity
from .models import Appeal, AppealEvent, Category, RiskWord

# code, name, default severity, children [(code, name, severity)]
CATEGORY_TREE = [
    (
        "TRAFFIC",
        "交通管理",
        Severity.BLUE,
        [
            ("TRAFFIC-PARK", "违章停车", Severity.BLUE),
            ("TRAFFIC-ACCIDENT", "交通事故处理", Severity.YELLOW),
            ("TRAFFIC-JAM", "道路拥堵", Severity.BLUE),
            ("TRAFFIC-VEHICLE", "车驾管业务", Severity.BLUE),
        ],
    ),
    (
        "HOUSEHOLD",
        "户籍管理",
        Severity.BLUE,
        [
            ("HOUSEHOLD-MOVE", "户口迁移", Severity.BLUE),
            ("HOUSEHOLD-ID", "身份证办理", Severity.BLUE),
            ("HOUSEHOLD-EXIT", "出入境证件", Severity.BLUE),
        ],
    ),
    (
        "LAW",
        "执法办案",
        Severity.YELLOW,
        [
            ("LAW-PROGRESS", "案件进展", Severity.YELLOW),
            ("LAW-UNFAIR", "执法不公", Severity.ORANGE),
        ],
    ),
    (
        "CONDUCT",
        "民警作风",
        Severity.YELLOW,
        [
            ("CONDUCT-ATTITUDE", "服务态度", Severity.YELLOW),
            ("CONDUCT-INACTION", "不作为慢作为", Severity.ORANGE),
        ],
    ),
    (
        "ORDER",
        "治安管理",
        Severity.YELLOW,
        [
            ("ORDER-NOISE", "噪音扰民", Severity.BLUE),
            ("ORDER-FIGHT", "打架斗殴", Severity.ORANGE),
            ("ORDER-VICE", "黄赌毒", Severity.ORANGE),
        ],
    ),
    ("FRAUD", "电信网络诈骗", Severity.ORANGE, []),
    ("ENTERPRISE", "涉企服务", Severity.YELLOW, []),
    ("OTHER", "其他", Severity.BLUE, []),
]

RISK_WORDS = [
    ("不想活了", "自伤"),
    ("跳楼", "自伤"),
    ("喝农药", "自伤"),
    ("同归于尽", "极端威胁"),
    ("报复", "报复"),
    ("拿刀", "暴力威胁"),
    ("砍死", "暴力威胁"),
    ("炸了", "极端威胁"),
]

# Places of the demo city and the station whose area they are in.
PLACES = [
    ("江北区滨江路", "LJ101"),
    ("江北区江滨花园", "LJ101"),
    ("江北区北湖路", "LJ102"),
    ("江北区北湖新村", "LJ102"),
    ("江南区南门街", "LJ201"),
    ("江南区南门菜市场", "LJ201"),
    ("江南区新华路", "LJ202"),
    ("江南区新华商业广场", "LJ202"),
    ("高新区科技大道", "LJ301"),
    ("高新区软件园", "LJ301"),
    ("高新区湖滨路", "LJ302"),
    ("临江县城关镇人民路", "LJ401"),
    ("临江县河口镇", "LJ402"),
]
TRAFFIC_UNIT = {"LJ1": "LJ103", "LJ2": "LJ203", "LJ3": "LJ303", "LJ4": "LJ403"}

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = [
    "秀英",
    "建国",
    "桂兰",
    "志强",
    "丽娟",
    "海涛",
    "玉兰",
    "国华",
    "春梅",
    "文斌",
    "晓燕",
    "德明",
    "红霞",
    "永刚",
    "淑珍",
    "子轩",
    "思雨",
    "浩然",
    "雅婷",
    "俊杰",
]
COMPANIES = [
    "临江宏达物流有限公司",
    "江北精工机械厂",
    "高新区云帆科技有限公司",
    "临江县河口建材公司",
    "南门百货商行",
    "新华餐饮管理有限公司",
]

# category code, kind, content template(s); {place} is filled in, {n} a number.
SCENARIOS = [
    (
        "ORDER-NOISE",
        Kind.COMPLAINT,
        "{place}附近的烧烤摊每天晚上营业到凌晨两点,噪音和油烟很大,老人孩子睡不着,请派出所管一管。",
    ),
    ("ORDER-NOISE", Kind.COMPLAINT, "{place}小区楼下广场舞音响声音太大,晚上九点半以后还在跳,多次劝说无效。"),
    ("ORDER-NOISE", Kind.COMPLAINT, "{place}一家KTV深夜噪音扰民,周末尤其严重,希望依法查处。"),
    ("TRAFFIC-PARK", Kind.COMPLAINT, "{place}路口长期有车辆违停占用消防通道,早晚高峰堵得走不动,请交警加强管理。"),
    ("TRAFFIC-PARK", Kind.SUGGESTION, "建议在{place}学校门口增设临时停车位和护学岗,接送孩子时段太乱了。"),
    ("TRAFFIC-JAM", Kind.SUGGESTION, "{place}红绿灯配时不合理,左转只有十几秒,每天排队几百米,建议调整。"),
    ("TRAFFIC-ACCIDENT", Kind.HELP, "我在{place}发生交通事故已经{n}天了,对方一直不配合处理,请交警帮忙调解。"),
    ("TRAFFIC-VEHICLE", Kind.CONSULTATION, "驾驶证快到期了,人在外地,能不能异地换证?需要带什么材料?"),
    ("TRAFFIC-VEHICLE", Kind.CONSULTATION, "新买的电动自行车怎么上牌?{place}附近哪里可以办理?"),
    ("HOUSEHOLD-MOVE", Kind.CONSULTATION, "孩子上学需要把户口迁到{place},请问需要哪些材料,多久能办好?"),
    ("HOUSEHOLD-ID", Kind.CONSULTATION, "身份证丢了,临时身份证当天能拿到吗?周末窗口上班吗?"),
    ("HOUSEHOLD-ID", Kind.COMPLAINT, "在{place}户籍窗口办身份证排队两个多小时,只开了一个窗口,希望增加人手。"),
    ("HOUSEHOLD-EXIT", Kind.CONSULTATION, "办理港澳通行证续签可以网上办吗?加急需要几天?"),
    ("LAW-PROGRESS", Kind.HELP, "我去年在{place}被人打伤报了案,到现在已经{n}个月了没有任何进展,想了解案件办理情况。"),
    ("LAW-PROGRESS", Kind.HELP, "电动车在{place}小区被盗,报案后一直没有消息,请帮忙查一下。"),
    ("LAW-UNFAIR", Kind.COMPLAINT, "对{place}派出所的调解结果不服,民警明显偏袒对方,要求重新处理。"),
    ("CONDUCT-ATTITUDE", Kind.COMPLAINT, "在{place}办事时窗口民警态度生硬,问两句就不耐烦,希望改进服务态度。"),
    (
        "CONDUCT-INACTION",
        Kind.COMPLAINT,
        "{place}有人长期占道堆放杂物,打了{n}次110,民警来了看一眼就走,问题一直没解决。",
    ),
    ("ORDER-FIGHT", Kind.HELP, "{place}夜市经常有人酒后闹事打架,晚上不敢出门,希望加强巡逻。"),
    ("ORDER-VICE", Kind.CLUE, "举报{place}一家棋牌室常年聚众赌博,晚上人进人出,影响很坏。"),
    ("FRAUD", Kind.HELP, "接到冒充客服的电话说要退款,按对方说的操作被骗了{n}千元,请求帮忙追回。"),
    ("FRAUD", Kind.CLUE, "收到短信说医保卡被冻结要点链接解冻,感觉是诈骗,举报这个号码。"),
    ("OTHER", Kind.PRAISE, "感谢{place}派出所的民警,深夜帮我找回走失的老人,服务特别热情,特此表扬。"),
    ("OTHER", Kind.PRAISE, "在{place}遇到车辆抛锚,交警同志冒雨帮忙推车疏导,给他们点赞。"),
]
ENTERPRISE_SCENARIOS = [
    ("ENTERPRISE", Kind.HELP, "我公司在{place}的厂区围墙多次被人破坏,夜间有人偷拉电缆,请求派出所加强巡防。"),
    ("ENTERPRISE", Kind.COMPLAINT, "我公司货车在{place}卸货经常被贴罚单,附近没有装卸车位,希望帮助协调临时停靠点。"),
    ("ENTERPRISE", Kind.CONSULTATION, "企业员工集体办理居住证,能否安排上门服务?大约{n}十人。"),
    ("ENTERPRISE", Kind.HELP, "有人冒用我公司名义在网上招聘骗取押金,已有求职者上门,请求公安机关调查。"),
]
RISKY = [
    ("LAW-PROGRESS", Kind.HELP, "案子拖了{n}个月没人管,再这样下去我真的不想活了。"),
    ("LAW-UNFAIR", Kind.COMPLAINT, "对方打人不处理反而处理我,你们再不给说法我就去报复他全家。"),
    ("ORDER-FIGHT", Kind.HELP, "邻居天天上门骂人,扬言要拿刀砍死我们家,请警察赶快来处理。"),
    ("CONDUCT-INACTION", Kind.COMPLAINT, "讨薪几个月没人管,老板躲着不见,逼急了就和他同归于尽。"),
    ("OTHER", Kind.HELP, "我妈说要跳楼,现在在{place}的楼顶上,我劝不住,求求你们帮帮忙。"),
]
REPEAT_PREFIX = ["再次反映:", "第二次打电话了,", "还是上次的事,", "问题依旧没有解决:"]

REPLIES = {
    Kind.CONSULTATION: "您好,您咨询的业务可携带本人身份证件到就近派出所户籍窗口办理,也可通过“临江公安”政务服务平台网上预约,详情可拨打窗口电话咨询。",
    Kind.PRAISE: "感谢您对公安工作的肯定,您的表扬已转达相关单位和民警。",
}

CHANNEL_WEIGHTS = [
    (Channel.HOTLINE, 30),
    (Channel.FEED_12345, 25),
    (Channel.MAYOR_MAILBOX, 8),
    (Channel.DIRECTOR_MAILBOX, 6),
    (Channel.FEED_12389, 5),
    (Channel.MESSAGE_BOARD, 6),
    (Channel.QR_RATING, 4),
    (Channel.SMS_REPLY, 4),
    (Channel.CALLBACK, 4),
    (Channel.ENTERPRISE, 8),
]
CATEGORY_HINTS = {
    "ORDER-NOISE": "噪音扰民",
    "TRAFFIC-PARK": "违章停车",
    "FRAUD": "电信网络诈骗",
    "HOUSEHOLD-ID": "身份证办理",
}


def load_categories() -> None:
    for i, (code, name, severity, children) in enumerate(CATEGORY_TREE):
        parent, _ = Category.objects.update_or_create(
            code=code, defaults={"name": name, "default_severity": severity, "sort_order": i * 10, "parent": None}
        )
        for j, (child_code, child_name, child_severity) in enumerate(children, start=1):
            Category.objects.update_or_create(
                code=child_code,
                defaults={
                    "name": child_name,
                    "default_severity": child_severity,
                    "sort_order": i * 10 + j,
                    "parent": parent,
                },
            )


def load_risk_words() -> None:
    for word, note in RISK_WORDS:
        RiskWord.objects.get_or_create(word=word, defaults={"note": note})


# The note of the demo appeals triaged for dispatch to their station: the work-orders demo, which
# runs next, dispatches exactly these (dispatching is that app's action).
TO_DISPATCH_NOTE = "研判完毕，按属地派单。"


def _backdate(appeal: Appeal, minutes: int = 0) -> None:
    """Demo only: put the timeline where the appeal's own time is (the services stamp "now")."""
    events = AppealEvent.objects.filter(appeal=appeal, created_at__gt=appeal.received_at).order_by("id")
    for i, event in enumerate(events):
        AppealEvent.objects.filter(pk=event.pk).update(
            created_at=appeal.received_at + timedelta(minutes=minutes + i * 7)
        )


def _plan(rnd: random.Random, now) -> list[dict]:
    """The appeals to create: one dict of create_appeal arguments (plus demo flags) each."""
    channels = [c for c, w in CHANNEL_WEIGHTS for _ in range(w)]
    plan: list[dict] = []
    phone_no = 0

    def person(enterprise: bool = False) -> tuple[str, str]:
        nonlocal phone_no
        phone_no += 1
        name = rnd.choice(COMPANIES) if enterprise else rnd.choice(SURNAMES) + rnd.choice(GIVEN)
        return name, f"1380000{phone_no:04d}"

    def item(scenario, when, *, channel=None, enterprise=False, who=None, prefix="") -> dict:
        code, kind, template = scenario
        place, station = rnd.choice(PLACES)
        channel = channel or (Channel.ENTERPRISE if enterprise else rnd.choice(channels))
        name, phone = who or person(enterprise)
        text = prefix + template.format(place=place, n=rnd.randint(2, 9))
        return {
            "channel": channel,
            "content": text,
            "received_at": when,
            "citizen_name": name,
            "citizen_phone": phone,
            "address": place if "{place}" in template else "",
            "kind": kind,
            "code": code,
            "station": station,
            "is_enterprise": enterprise or channel == Channel.ENTERPRISE,
            "title": text[:18]
            if channel in (Channel.MAYOR_MAILBOX, Channel.DIRECTOR_MAILBOX, Channel.MESSAGE_BOARD)
            else "",
        }

    # The flow of ordinary appeals over 60 days, busier on weekdays.
    for day in range(60, -1, -1):
        date = now - timedelta(days=day)
        count = rnd.randint(2, 5) if date.weekday() < 5 else rnd.randint(1, 3)
        if day <= 1:
            count += 14  # the weekend's backlog waits on Monday morning
        for _ in range(count):
            when = (
                date.replace(hour=rnd.randint(7, 22), minute=rnd.randint(0, 59))
                if day
                else now - timedelta(minutes=rnd.randint(5, 600))
            )
            plan.append(item(rnd.choice(SCENARIOS), min(when, now - timedelta(minutes=3))))
    # Enterprises.
    for _ in range(24):
        when = now - timedelta(days=rnd.randint(0, 58), hours=rnd.randint(0, 12))
        plan.append(
            item(
                rnd.choice(ENTERPRISE_SCENARIOS),
                when,
                enterprise=True,
                channel=rnd.choice([Channel.ENTERPRISE, Channel.ENTERPRISE, Channel.FEED_12345]),
            )
        )
    # Risk words, mostly recent.
    for i, scenario in enumerate(RISKY * 2):
        when = now - timedelta(days=0 if i < 4 else rnd.randint(2, 50), minutes=rnd.randint(10, 500))
        plan.append(item(scenario, when, channel=Channel.HOTLINE if i % 2 else Channel.FEED_12345))
    # Repeat callers: the same person about the same matter, two or three times within days.
    for _ in range(22):
        scenario = rnd.choice(SCENARIOS[:7] + SCENARIOS[13:20])
        who = person()
        start = now - timedelta(days=rnd.randint(3, 55), hours=rnd.randint(0, 10))
        first = item(scenario, start, who=who)
        plan.append(first)
        for k in range(rnd.randint(1, 2)):
            again = dict(first)
            again["received_at"] = min(
                start + timedelta(days=rnd.randint(1, 4) * (k + 1), hours=rnd.randint(0, 5)),
                now - timedelta(minutes=30),
            )
            again["content"] = rnd.choice(REPEAT_PREFIX) + first["content"]
            again["channel"] = rnd.choice([Channel.HOTLINE, Channel.FEED_12345, first["channel"]])
            plan.append(again)
    # Numbered in the order drawn, which is the same whatever the minute: numbered after the sort,
    # a second load a minute later could swap two appeals of the same minute, one drawn relative
    # to now and one at a fixed hour, and create both again under the other's number.
    for i, p in enumerate(plan, start=1):
        p["external_id"] = f"DEMO-{i:04d}"
    plan.sort(key=lambda p: p["received_at"])
    return plan


def load_appeals(stdout=None) -> int:
    rnd = random.Random(20261122)
    now = timezone.now().replace(second=0, microsecond=0)
    categories = {c.code: c for c in Category.objects.all()}
    units = {u.code: u for u in Unit.objects.all()}
    center = (
        User.objects.filter(role=Role.CENTER_STAFF, username="center").first()
        or User.objects.filter(role=Role.CENTER_STAFF).first()
    )
    created_count = 0
    for p in _plan(rnd, now):
        category = categories.get(p["code"])
        hint = CATEGORY_HINTS.get(p["code"]) if p["channel"] == Channel.FEED_12345 else None
        appeal, created = services.create_appeal(
            channel=p["channel"],
            external_id=p["external_id"],
            content=p["content"],
            received_at=p["received_at"],
            citizen_name=p["citizen_name"],
            citizen_phone=p["citizen_phone"],
            address=p["address"],
            kind=p["kind"] if p["channel"] not in (Channel.FEED_12345, Channel.FEED_12389) else None,
            category=None if hint else category,
            category_hint=hint,
            is_enterprise=p["is_enterprise"],
            title=p["title"],
            actor=center if p["channel"] in (Channel.HOTLINE, Channel.ENTERPRISE) else None,
        )
        if not created:
            continue
        created_count += 1
        age = now - appeal.received_at
        if age < timedelta(days=1, hours=12) or center is None:
            if rnd.random() < 0.15 and center:
                services.triage_appeal(appeal, actor=center, kind=p["kind"], category=category)
                services.mark_for_dispatch(appeal, actor=center, note="需属地派出所核查处理")
            _backdate(appeal, 1)
            continue
        # Older appeals were triaged: kind and category confirmed by staff.
        services.triage_appeal(appeal, actor=center, kind=p["kind"], category=category)
        if appeal.is_repeat and appeal.repeat_of and appeal.repeat_of.is_open and rnd.random() < 0.5:
            services.merge_appeal(appeal, into=appeal.repeat_of, actor=center, note="同一来电人同一事项,合并办理")
        elif p["kind"] in REPLIES:
            services.close_appeal(appeal, actor=center, reply=REPLIES[p["kind"]])
        elif appeal.status != AppealStatus.MERGED:
            station = p["station"]
            if p["code"].startswith("TRAFFIC") and station[:3] in TRAFFIC_UNIT:
                station = TRAFFIC_UNIT[station[:3]]
            unit = units.get(station)
            if unit is not None and rnd.random() < 0.9:
                services.mark_for_dispatch(appeal, actor=center, proposed_unit=unit, note=TO_DISPATCH_NOTE)
            else:
                services.mark_for_dispatch(appeal, actor=center)
        _backdate(appeal, rnd.randint(8, 90))
    return created_count


def load(stdout=None) -> None:
    load_categories()
    load_risk_words()
    created = load_appeals(stdout)
    if stdout:
        stdout.write(
            f"intake: {Category.objects.count()} categories, {RiskWord.objects.count()} risk words, "
            f"{Appeal.objects.count()} appeals ({created} new)"
        )
