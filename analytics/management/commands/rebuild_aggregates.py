"""Recompute the daily aggregate rows of a range of days from the source tables."""

import datetime as dt
import time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from analytics import services


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError("日期格式应为 YYYY-MM-DD") from exc


class Command(BaseCommand):
    help = "从源数据重算每日统计（含两端日期）：rebuild_aggregates --from 2024-01-01 --to 2026-10-31"

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="first", required=True, help="开始日期 YYYY-MM-DD")
        parser.add_argument("--to", dest="last", help="结束日期 YYYY-MM-DD（含；默认今天）")

    def handle(self, *args, first, last=None, **options):
        start = _date(first)
        end = _date(last) if last else timezone.localdate()
        if end < start:
            raise CommandError("结束日期不能早于开始日期")
        started = time.monotonic()

        def progress(first, until):
            self.stdout.write(
                f"{first:%Y-%m-%d} ~ {until - dt.timedelta(days=1):%Y-%m-%d}：已重算"
                f"（累计 {time.monotonic() - started:.1f} 秒）"
            )

        # Set-wise, a month per transaction, so memory stays bounded and progress shows.
        done = services.rebuild_aggregates(first=start, until=end + dt.timedelta(days=1), progress=progress)
        self.stdout.write(f"共重算 {done} 天，用时 {time.monotonic() - started:.1f} 秒")
