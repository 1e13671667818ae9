"""Demo data of the feeds app: the platforms with their demo keys, and two finished imports whose
reports show a few rejected rows."""

from __future__ import annotations

import io
import os
from datetime import timedelta

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from intake.choices import Channel

from .choices import FeedKind
from .models import FeedSource, ImportBatch, hash_key
from .services import run_import_batch, start_import

# code, name, kind, channel, demo key (None: a random one nobody knows)
SOURCES = [
    ("12345", "12345政务服务便民热线", FeedKind.APPEALS, Channel.FEED_12345, "demo-12345-key"),
    ("12389", "12389公安机关和队伍建设违纪违法举报", FeedKind.APPEALS, Channel.FEED_12389, None),
    ("message-board", "人民网领导留言板", FeedKind.APPEALS, Channel.MESSAGE_BOARD, None),
    ("service-records", "警务业务系统（业务记录）", FeedKind.SERVICE_RECORDS, "", "demo-records-key"),
    # An Open311 GeoReport v2 client (a city app); its key is the api_key it posts (docs/open311.md).
    ("open311-city-app", "城市服务App（Open311）", FeedKind.OPEN311, Channel.MESSAGE_BOARD, "demo-open311-key"),
]

HEADER = "来源编号,受理时间,诉求人,联系电话,诉求内容,地址,分类,涉企"
ROWS_12345 = [
    (
        "LJ12345-{d}-0101",
        "{t} 08:12",
        "王建国",
        "13800001201",
        "滨江路菜市场门口每天早上乱停车，堵住消防通道。",
        "临江市江北区滨江路88号",
        "违章停车",
        "否",
    ),
    (
        "LJ12345-{d}-0102",
        "{t} 09:40",
        "李秀英",
        "13800001202",
        "小区楼下烧烤店营业到凌晨两点，噪音严重影响休息。",
        "临江市江北区北湖小区3栋",
        "噪音扰民",
        "否",
    ),
    (
        "LJ12345-{d}-0103",
        "{t} 10:05",
        "张伟",
        "138000012",
        "办理身份证补领三周未取到，询问进度。",
        "临江市江南区南门街12号",
        "身份证办理",
        "否",
    ),
    (
        "LJ12345-{d}-0104",
        "",
        "刘洋",
        "13800001204",
        "电动车在小区内被盗，报警后无人联系。",
        "临江市高新区湖滨花园",
        "案件进展",
        "否",
    ),
    (
        "LJ12345-{d}-0105",
        "{t} 11:30",
        "陈静",
        "13800001205",
        "公司仓库附近夜间有人聚集，担心安全。",
        "临江市高新区科技园路6号",
        "",
        "是",
    ),
    ("LJ12345-{d}-0106", "{t} 13:15", "赵磊", "13800001206", "", "临江市临江县城关镇", "户口迁移", "否"),
    (
        "LJ12345-{d}-0107",
        "{t} 14:50",
        "孙丽",
        "13800001207",
        "孩子上学户口迁移需要什么材料？",
        "临江市临江县城关镇",
        "户口迁移",
        "否",
    ),
]
ROWS_BOARD = [
    (
        "MB-{d}-001",
        "{t} 19:20",
        "周强",
        "13800001301",
        "江北交警大队窗口办事效率低，排队两小时。",
        "临江市江北区",
        "车驾管业务",
        "否",
    ),
    (
        "MB-{d}-002",
        "{t} 20:05",
        "吴敏",
        "13800001302",
        "建议在湖滨路口增设红绿灯。",
        "临江市高新区湖滨路",
        "道路拥堵",
        "否",
    ),
    (
        "MB-{d}-002",
        "{t} 20:06",
        "吴敏",
        "13800001302",
        "建议在湖滨路口增设红绿灯。（重复提交）",
        "临江市高新区湖滨路",
        "道路拥堵",
        "否",
    ),
    (
        "MB-{d}-003",
        "{t}T21:00",
        "郑华",
        "13800001303",
        "感谢南门派出所民警帮我找回走失的老人。",
        "临江市江南区",
        "",
        "或许",
    ),
]


def _csv(rows, day: str, date: str) -> bytes:
    out = io.StringIO()
    out.write(HEADER + "\r\n")
    for row in rows:
        out.write(",".join(v.format(d=day, t=date) for v in row) + "\r\n")
    return out.getvalue().encode("utf-8-sig")


def _base_url() -> str:
    """Where ``make run`` serves the app (PUBLIC_BASE_URL when set)."""
    return (settings.PUBLIC_BASE_URL or f"http://127.0.0.1:{os.environ.get('PORT', '8000')}").rstrip("/")


def load(stdout=None) -> None:
    sources = {}
    for code, name, kind, channel, key in SOURCES:
        defaults = {"name": name, "kind": kind, "channel": channel, "is_active": True}
        if code in ("12345", "12389"):
            # Results go to the stand-in platform inside the app itself (see DemoPlatformView).
            defaults["result_url"] = f"{_base_url()}{reverse('feeds:demo-platform')}"
            defaults["result_secret"] = f"demo-{code}-result-secret"
        source, _created = FeedSource.objects.update_or_create(code=code, defaults=defaults)
        if key and source.key_hash != hash_key(key):
            source.set_key(key)
            source.save(update_fields=["key_hash", "key_prefix", "key_created_at"])
        elif not source.key_hash:
            source.new_key()
            source.save(update_fields=["key_hash", "key_prefix", "key_created_at"])
        sources[code] = source

    yesterday = timezone.localdate() - timedelta(days=1)
    day, date = yesterday.strftime("%Y%m%d"), yesterday.isoformat()
    files = [
        ("12345", f"12345工单导出_{day}.csv", ROWS_12345),
        ("message-board", f"留言板_{day}.csv", ROWS_BOARD),
    ]
    for code, filename, rows in files:
        existing = ImportBatch.objects.filter(source=sources[code], filename=filename).first()
        if existing:
            if existing.is_open:
                run_import_batch(existing.pk)
            continue
        upload = SimpleUploadedFile(filename, _csv(rows, day, date), content_type="text/csv")
        start_import(kind=FeedKind.APPEALS, source=sources[code], upload=upload, actor=None, run_now=True)
    if stdout:
        stdout.write(f"feeds: {len(sources)} sources, {ImportBatch.objects.count()} import batches")
