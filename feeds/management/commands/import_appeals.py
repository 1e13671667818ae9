"""Import a CSV/XLSX file of appeals for a source and print the row-by-row report."""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError

from feeds.choices import BatchStatus, FeedKind
from feeds.models import FeedSource
from feeds.selectors import batch_errors
from feeds.services import start_import


class Command(BaseCommand):
    help = "导入诉求文件（CSV/XLSX）：import_appeals <来源代码> <文件>，打印逐行报告。"

    def add_arguments(self, parser):
        parser.add_argument("source", help="来源代码：12345、12389、message-board …")
        parser.add_argument("file", help="CSV 或 XLSX 文件路径")
        parser.add_argument("--method", choices=["orm", "copy"], help="强制导入方式（默认按文件大小自动选择）")
        parser.add_argument("--max-errors", type=int, default=200, help="最多打印多少条错误（默认 200）")

    def handle(self, *args, source: str, file: str, method: str | None, max_errors: int, **options):
        feed = FeedSource.objects.filter(code=source, kind=FeedKind.APPEALS).first()
        if feed is None:
            raise CommandError(f"没有代码为“{source}”的诉求类数据来源。")
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"文件不存在：{file}")
        with path.open("rb") as fh:
            try:
                batch = start_import(
                    kind=FeedKind.APPEALS,
                    source=feed,
                    upload=File(fh, name=path.name),
                    actor=None,
                    run_now=True,
                    method=method,
                )
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from exc
        earlier = getattr(batch, "earlier", "")
        if earlier == BatchStatus.DONE:
            self.stdout.write(self.style.WARNING(f"该文件已导入（批次 #{batch.pk}），未重复导入。"))
        elif earlier in (BatchStatus.QUEUED, BatchStatus.RUNNING):
            self.stdout.write(f"接管未完成的批次 #{batch.pk}（同一文件，第 {batch.attempts} 次执行）。")
        elif earlier == BatchStatus.FAILED:
            self.stdout.write(f"同一文件的批次 #{batch.pk} 曾失败，已重新导入。")
        if batch.status == BatchStatus.RUNNING:
            raise CommandError(f"批次 #{batch.pk} 正在由另一进程导入（{batch.runner}），请稍后在导入报告中查看结果。")
        self.stdout.write(f"批次 #{batch.pk} {batch.filename}：{batch.get_status_display()}（{batch.method or '-'}）")
        if batch.error:
            self.stdout.write(self.style.ERROR(batch.error))
        self.stdout.write(
            f"总行数 {batch.total_rows}，新增 {batch.created}，已存在 {batch.duplicates}，拒绝 {batch.rejected}"
        )
        if batch.started_at and batch.finished_at:
            self.stdout.write(f"用时 {(batch.finished_at - batch.started_at).total_seconds():.2f} 秒")
        errors = batch_errors(batch)
        for error in errors[:max_errors]:
            self.stdout.write(f"第 {error.row_number} 行\t{error.field}\t{error.reason}")
        hidden = errors.count() - max_errors
        if hidden > 0:
            self.stdout.write(f"……另有 {hidden} 条错误未显示，见导入报告页面。")
        if batch.status != "done":
            raise CommandError("导入未完成：" + (batch.error or batch.get_status_display()))
