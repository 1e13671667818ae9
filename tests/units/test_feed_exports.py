"""Exports of the feeds' lists: the import batches and the results sent back to 12345/12389,
what the list shows (its filters), whole, phones masked, center staff only."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from feeds.choices import BatchStatus, DeliveryStatus, FeedKind
from feeds.models import FeedSource, ImportBatch, ResultDelivery
from intake.models import Appeal
from intake.phones import phone_hash

pytestmark = pytest.mark.django_db

PHONE = "+8613800007788"


def _rows(response) -> list[tuple]:
    assert response.status_code == 200, response.status_code
    assert response.streaming
    data = b"".join(response.streaming_content)
    return list(load_workbook(io.BytesIO(data), read_only=True).worksheets[0].iter_rows(values_only=True))


@pytest.fixture
def source(db) -> FeedSource:
    made = FeedSource(code="12345", name="12345平台", kind=FeedKind.APPEALS, channel="12345")
    made.set_key("export-test-key")
    made.save()
    return made


def _delivery(source, n: int, status: str) -> ResultDelivery:
    appeal = Appeal.objects.create(
        channel="12345",
        external_id=f"12345-EXP-{n}",
        content="楼下烧烤店油烟扰民",
        citizen_phone=PHONE,
        citizen_phone_hash=phone_hash(PHONE),
        status="closed",
    )
    return ResultDelivery.objects.create(
        appeal=appeal, source=source, payload={"reply": "已处理"}, status=status, last_error="回电 13800001111 无人接"
    )


def test_deliveries_export_applies_the_filters_and_masks_phones(client, center, source):
    for n, status in enumerate([DeliveryStatus.FAILED, DeliveryStatus.DELIVERED, DeliveryStatus.FAILED]):
        _delivery(source, n, status)
    client.force_login(center)
    page = client.get(reverse("feeds:deliveries"), {"status": "failed"}).content.decode()
    assert f'href="{reverse("feeds:deliveries-export")}?status=failed"' in page
    rows = _rows(client.get(reverse("feeds:deliveries-export"), {"status": "failed"}))
    header, body = rows[0], rows[1:]
    assert header[:4] == ("回传号", "创建时间", "来源", "来源编号")
    assert [r[3] for r in body] == ["12345-EXP-2", "12345-EXP-0"]
    flat = " ".join(str(c) for r in body for c in r)
    assert "138****7788" in flat
    assert "13800007788" not in flat and "13800001111" not in flat


def test_import_batches_export_holds_every_batch(client, center, source):
    for n in range(3):
        ImportBatch.objects.create(
            kind=FeedKind.APPEALS, source=source, filename=f"第{n}批.csv", status=BatchStatus.DONE, total_rows=10 + n
        )
    client.force_login(center)
    assert reverse("feeds:imports-export") in client.get(reverse("feeds:imports")).content.decode()
    rows = _rows(client.get(reverse("feeds:imports-export")))
    assert rows[0][:5] == ("批次号", "上传时间", "数据类型", "来源", "文件名")
    assert [r[4] for r in rows[1:]] == ["第2批.csv", "第1批.csv", "第0批.csv"]


def test_feed_exports_are_for_the_center_only(client, handler, supervisor):
    for user in (handler, supervisor):
        client.force_login(user)
        assert client.get(reverse("feeds:deliveries-export")).status_code == 403
        assert client.get(reverse("feeds:imports-export")).status_code == 403
