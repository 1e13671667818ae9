"""Demo data of the early-warning app: yesterday's traffic holds a rising matter, a group appeal and
callers who came through several channels, and the detectors are run over it, so the alerts (with
their evidence, notifications and timeline) are the detectors' own, not hand-written rows.

Generated, invented text; phones are 1380000xxxx only. Every appeal has a demo external id, so
loading twice creates nothing new and the rerun of the detectors adds nothing. Yesterday's daily
bulletin (kept by the analytics demo, which loads first) is generated again so it lists them.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from intake import services as intake_services
from intake.choices import Channel, Kind
from intake.models import Category
from units.choices import Role
from units.models import Unit, User

from . import services
from .baseline import day_start

SURGE = [  # 滨江路: noise at night, from every channel (varied wording: not one group)
    (Channel.HOTLINE, "滨江路88号酒吧凌晨还在放音乐，吵得睡不着"),
    (Channel.FEED_12345, "反映滨江路一带夜间烧烤摊噪音扰民，多次投诉无果"),
    (Channel.MAYOR_MAILBOX, "滨江路沿街商铺音响外放，晚上十一点后仍很吵"),
    (Channel.HOTLINE, "滨江路小广场跳舞音乐太响，老人孩子休息不了"),
    (Channel.FEED_12345, "滨江路工地夜间施工，电钻声持续到半夜"),
    (Channel.HOTLINE, "滨江路90号KTV门口有人喝酒喧哗"),
    (Channel.MAYOR_MAILBOX, "请管管滨江路夜市的喇叭叫卖声"),
]
GROUP = "江南小区门口有人聚集讨要工程款，堵住了小区大门，车辆进不去"
GROUP_TAILS = ["，请派人来看看", "，已经一个小时了", "，请尽快处理", "，人越来越多", "，希望警察到场", "，情绪激动"]
CALLERS = [  # (phone, [(days before the detection, channel, text)])
    (
        "13800009001",
        [
            (6, Channel.HOTLINE, "我家电动车在新华路小区被盗，报警后一直没有消息"),
            (3, Channel.FEED_12345, "电动车被盗案件进展反映，至今没有回复"),
            (0.3, Channel.MAYOR_MAILBOX, "第三次反映电动车被盗案件，办案民警不接电话"),
        ],
    ),
    (
        "13800009002",
        [
            (5, Channel.FEED_12345, "户口迁移材料被退回三次，窗口说法不一"),
            (2, Channel.HOTLINE, "户口迁移的事情还是没有人给个准话"),
            (0.2, Channel.MAYOR_MAILBOX, "户口迁移问题多次反映未解决，要求给出书面答复"),
        ],
    ),
]


def _center() -> User | None:
    return (
        User.objects.filter(role=Role.CENTER_STAFF, username="center").first()
        or User.objects.filter(role=Role.CENTER_STAFF).first()
    )


def _appeal(key: str, *, channel: str, content: str, at, phone: str, address: str, category, unit, center):
    appeal, created = intake_services.create_appeal(
        channel=channel,
        external_id=f"DEMO-ALERT-{key}",
        content=content,
        received_at=at,
        citizen_phone=phone,
        address=address,
        category=category,
    )
    if created and center is not None and unit is not None:
        intake_services.triage_appeal(appeal, actor=center, kind=Kind.COMPLAINT, category=category, proposed_unit=unit)
    return appeal


def load_traffic(*, detect_at) -> int:
    """Create the demo traffic before ``detect_at`` (idempotent). Returns the appeals made."""
    categories = {c.code: c for c in Category.objects.all()}
    units = {u.code: u for u in Unit.objects.all()}
    center = _center()
    made = 0
    noise = categories.get("ORDER-NOISE")
    for i, (channel, text) in enumerate(SURGE):
        at = detect_at - dt.timedelta(hours=10) + dt.timedelta(minutes=83 * i)
        _appeal(
            f"SURGE-{i}",
            channel=channel,
            content=text,
            at=at,
            phone=f"138000081{i:02d}",
            address=f"临江市江北区滨江路{86 + i}号",
            category=noise,
            unit=units.get("LJ101"),
            center=center,
        )
        made += 1
    # Several callers, one event: two categories (so it is not also a rising matter of one).
    split = [categories.get("ORDER-NOISE"), categories.get("ORDER")] if categories.get("ORDER") else [None, None]
    for i, tail in enumerate(GROUP_TAILS):
        _appeal(
            f"GROUP-{i}",
            channel=[Channel.HOTLINE, Channel.FEED_12345][i % 2],
            content=GROUP + tail,
            at=detect_at - dt.timedelta(hours=3) + dt.timedelta(minutes=20 * i),
            phone=f"138000082{i:02d}",
            address="临江市江南区江南小区东门",
            category=split[i % 2],
            unit=units.get("LJ201"),
            center=center,
        )
        made += 1
    for n, (phone, visits) in enumerate(CALLERS):
        for j, (days, channel, text) in enumerate(visits):
            _appeal(
                f"CALLER-{n}-{j}",
                channel=channel,
                content=text,
                at=detect_at - dt.timedelta(days=days),
                phone=phone,
                address="",
                category=None,
                unit=units.get("LJ202"),
                center=center,
            )
            made += 1
    return made


def load(stdout=None) -> None:
    today = timezone.localdate()
    yesterday = today - dt.timedelta(days=1)
    detect_at = day_start(yesterday) + dt.timedelta(hours=20)
    load_traffic(detect_at=detect_at)
    # As the beat job would have, every few minutes through the evening; only the last run matters
    # for the figures, and a rerun adds nothing.
    raised = services.run_detectors(now=detect_at)
    _regenerate_bulletin(yesterday)
    if stdout:
        stdout.write(f"alerts: detectors raised {sum(raised.values())} new alerts ({raised})")


def _regenerate_bulletin(day) -> None:
    """Yesterday's daily summary was kept before the demo alerts existed: generate it again."""
    try:
        from analytics.choices import BulletinKind
        from analytics.models import Bulletin
        from analytics.services import generate_bulletin
    except ImportError:
        return
    kept = Bulletin.objects.filter(kind=BulletinKind.DAILY, period_start=day).first()
    if kept is not None:
        sections = kept.content.get("sections") or []
        if any((s.get("data") or {}).get("total") for s in sections):
            return
        kept.delete()
    generate_bulletin(kind=BulletinKind.DAILY, on=day)
