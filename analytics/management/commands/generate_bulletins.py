"""Generate the bulletins (and last month's draft rankings) that are due, or one given bulletin."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from analytics import services
from analytics.choices import BulletinKind


class Command(BaseCommand):
    help = "生成到期的通报（日归纳、周分析、月通报）；或用 --kind 与 --date 生成指定周期的通报。"

    def add_arguments(self, parser):
        parser.add_argument("--kind", choices=BulletinKind.values)
        parser.add_argument("--date", help="周期内任一天，YYYY-MM-DD")

    def handle(self, *args, kind=None, date=None, **options):
        if kind:
            if not date:
                raise CommandError("--kind 需要同时给出 --date")
            try:
                on = dt.date.fromisoformat(date)
            except ValueError as exc:
                raise CommandError("日期格式应为 YYYY-MM-DD") from exc
            bulletin, created = services.generate_bulletin(kind=kind, on=on)
            self.stdout.write(f"{'生成' if created else '已存在'}：{bulletin.title}")
            return
        for bulletin in services.generate_due_bulletins():
            self.stdout.write(f"生成：{bulletin.title}")
