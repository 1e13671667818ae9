"""Demo data of the intake app: the category tree."""

from __future__ import annotations

from .choices import Severity
from .models import Category

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


def load(stdout=None) -> None:
    load_categories()
    if stdout:
        stdout.write(f"intake: {Category.objects.count()} categories")
