"""XLSX exports of the staff lists and the printable sheets (承办单, 督办通知单, 回访记录).

An export holds exactly the rows its list's queryset gives the user (visibility and filters), the
whole result rather than a page, with citizens' numbers masked, read in chunks with bounded memory.
"""

from __future__ import annotations

import io
import itertools
import tracemalloc
import zipfile

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from intake.models import Appeal
from intake.phones import phone_hash
from units.exports import DEFAULT_MAX_ROWS
from workorders import services as wo_services

pytestmark = pytest.mark.django_db

PHONE = "+8613800005678"
_seq = itertools.count(1)


def _appeal(**kwargs) -> Appeal:
    phone = kwargs.pop("phone", PHONE)
    fields = {
        "channel": "hotline",
        "content": f"夜市烧烤油烟扰民，回电 13800009999（{next(_seq)}）",
        "address": "临江市江北区滨江路18号",
        "citizen_name": "张建国",
        "citizen_phone": phone,
        "citizen_phone_hash": phone_hash(phone),
        "severity": "yellow",
        "status": "pending_dispatch",
    }
    fields.update(kwargs)
    return Appeal.objects.create(**fields)


def _body(response) -> bytes:
    assert response.status_code == 200, response.status_code
    assert response.streaming, "an export is streamed, not built in memory"
    return b"".join(response.streaming_content)


def _rows(response) -> list[tuple]:
    sheet = load_workbook(io.BytesIO(_body(response)), read_only=True).worksheets[0]
    return list(sheet.iter_rows(values_only=True))


def _unzipped(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return "".join(archive.read(name).decode("utf-8", "replace") for name in archive.namelist())


# --- the triage desk ---------------------------------------------------------------------------


def test_desk_export_holds_the_filtered_queue_in_desk_order_with_chinese_headers(client, center):
    red_old = _appeal(severity="red")
    yellow = _appeal(severity="yellow")
    red_new = _appeal(severity="red")
    _appeal(severity="red", status="closed")  # another tab
    client.force_login(center)

    response = client.get(reverse("intake:export"), {"status": "pending_dispatch", "severity": "red"})

    rows = _rows(response)
    assert rows[0][:3] == ("编号", "查询码", "受理时间")
    assert [r[0] for r in rows[1:]] == [red_old.pk, red_new.pk]
    assert yellow.pk not in [r[0] for r in rows[1:]]
    assert response["Content-Disposition"].startswith("attachment")
    sheet = load_workbook(io.BytesIO(b"".join(_export(client, {"status": "all"}).streaming_content))).worksheets[0]
    assert sheet.title == "诉求"
    assert sheet.max_row == 1 + 4


def _export(client, params):
    return client.get(reverse("intake:export"), params)


def test_desk_export_holds_only_the_handlers_unit_rows(client, center, handler, station, other_station):
    mine = wo_services.dispatch_appeal(_appeal(), unit=station, actor=center).appeal
    wo_services.dispatch_appeal(_appeal(), unit=other_station, actor=center)
    _appeal()  # not dispatched: the center's alone
    client.force_login(handler)

    rows = _rows(_export(client, {"status": "all"}))

    assert [r[0] for r in rows[1:]] == [mine.pk]


def test_desk_export_masks_phones_in_columns_and_free_text(client, center):
    _appeal(content="身份证 110105199001011234 手机 13800009999 夜间噪音")
    client.force_login(center)

    data = _body(_export(client, {"status": "all"}))

    text = _unzipped(data)
    assert "138****5678" in text and "138****9999" in text
    for secret in ("13800005678", "13800009999", "110105199001011234"):
        assert secret not in text
    assert "110105********1234" in text


def test_desk_export_over_the_cap_goes_back_to_the_list_with_a_message(client, center, settings):
    settings.EXPORT_MAX_ROWS = 2
    for _ in range(3):
        _appeal()
    client.force_login(center)

    response = client.get(reverse("intake:export"), {"status": "all", "severity": "yellow"}, follow=True)

    assert response.redirect_chain[-1][0] == reverse("intake:desk") + "?status=all&severity=yellow"
    assert "无法导出" in response.content.decode()
    assert DEFAULT_MAX_ROWS == 1_000_000


def _bulk_appeals(n: int) -> None:
    Appeal.objects.bulk_create(
        [
            Appeal(
                channel="hotline",
                content=f"批量诉求 {i}",
                citizen_phone=PHONE,
                citizen_phone_hash=phone_hash(PHONE),
                status="pending_dispatch",
            )
            for i in range(n)
        ],
        batch_size=1000,
    )


def _peak(client, params) -> tuple[int, int]:
    tracemalloc.start()
    try:
        response = _export(client, params)
        _size, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return int(response["X-Export-Rows"]), peak


def test_desk_export_of_5000_rows_is_whole_and_memory_bounded(client, center, settings):
    """The whole result (not a page of 50), read in chunks: exporting 5,000 rows takes about the
    memory of exporting 1,000 — a materialised result would take five times as much."""
    settings.EXPORT_CHUNK_SIZE = 250
    _bulk_appeals(1000)
    client.force_login(center)
    _export(client, {"status": "all"})  # warm caches (templates, translations, formats)
    small, small_peak = _peak(client, {"status": "all"})
    _bulk_appeals(4000)

    whole, whole_peak = _peak(client, {"status": "all"})

    assert small == 1000
    assert whole == 5000
    assert whole_peak < small_peak * 2, (small_peak, whole_peak)
    rows = _rows(_export(client, {"status": "all"}))
    assert len(rows) == 5001


# --- work orders ---------------------------------------------------------------------------------


def _order(unit, actor, **appeal_fields):
    return wo_services.dispatch_appeal(_appeal(**appeal_fields), unit=unit, actor=actor)


def test_workspace_export_is_the_workspace_tab_for_the_handler(client, center, handler, station, other_station):
    mine = [_order(station, center) for _ in range(3)]
    _order(other_station, center)
    client.force_login(handler)

    listed = client.get(reverse("workorders:workspace"), {"tab": "to_sign"}).context["orders"]
    rows = _rows(client.get(reverse("workorders:export"), {"tab": "to_sign"}))

    assert rows[0][0] == "工单编号"
    assert [r[0] for r in rows[1:]] == [o.number for o in listed]
    assert sorted(r[0] for r in rows[1:]) == sorted(o.number for o in mine)


def test_workspace_export_applies_the_filters(client, center, station):
    red = _order(station, center, severity="red")
    _order(station, center, severity="yellow")
    client.force_login(center)

    rows = _rows(client.get(reverse("workorders:export"), {"tab": "all", "severity": red.severity}))

    assert [r[0] for r in rows[1:]] == [red.number]
    data = _body(client.get(reverse("workorders:export"), {"tab": "all"}))
    assert "13800005678" not in _unzipped(data) and "138****5678" in _unzipped(data)


def test_review_export_is_center_only(client, handler):
    client.force_login(handler)
    assert client.get(reverse("workorders:review_export")).status_code == 403


# --- printable sheets ----------------------------------------------------------------------------


def test_the_order_sheet_prints_for_its_unit_and_is_404_for_another_station(client, center, handler, handler2, station):
    order = _order(station, center, content="夜间施工噪音，联系 13800009999")
    client.force_login(handler)

    page = client.get(reverse("workorders:print_order", args=[order.pk]))

    text = page.content.decode()
    assert page.status_code == 200
    assert "承办单" in text and "临江市公安局" in text and station.name in text
    assert "138****5678" in text and "138****9999" in text
    assert "13800005678" not in text and "13800009999" not in text
    assert "data-print" in text and "css/print.css" in text
    client.force_login(handler2)
    assert client.get(reverse("workorders:print_order", args=[order.pk])).status_code == 404
    assert client.get(reverse("workorders:print_supervision", args=[order.pk])).status_code == 404


def test_the_supervision_notice_prints_for_a_listed_order_only(client, center, supervisor, handler, station):
    order = _order(station, center)
    client.force_login(handler)
    assert client.get(reverse("workorders:print_supervision", args=[order.pk])).status_code == 404

    wo_services.list_order(order, actor=supervisor, reason="群众多次来电反映，限期办结")
    page = client.get(reverse("workorders:print_supervision", args=[order.pk]))

    text = page.content.decode()
    assert page.status_code == 200
    assert "督办通知单" in text and "群众多次来电反映，限期办结" in text
    assert str(supervisor) in text


# --- surveys -------------------------------------------------------------------------------------


def _callback(unit, *, text="民警没来，电话 13800009999"):
    from django.utils import timezone

    from surveys.models import Callback, Rating

    rating = Rating.objects.create(
        unit=unit, verdict="dissatisfied", text=text, phone=PHONE, phone_hash=phone_hash(PHONE)
    )
    return Callback.objects.create(rating=rating, unit=unit, due_at=timezone.now())


def test_callback_export_and_sheet(client, center, supervisor, handler, station, other_station):
    mine = _callback(station)
    other = _callback(other_station)
    client.force_login(center)

    rows = _rows(client.get(reverse("surveys:callback_export")))
    data = _body(client.get(reverse("surveys:callback_export")))

    assert rows[0][0] == "编号"
    assert sorted(r[0] for r in rows[1:]) == sorted([mine.pk, other.pk])
    assert "13800005678" not in _unzipped(data) and "13800009999" not in _unzipped(data)
    assert "138****5678" in _unzipped(data)
    filtered = _rows(client.get(reverse("surveys:callback_export"), {"unit": station.pk}))
    assert [r[0] for r in filtered[1:]] == [mine.pk]

    sheet = client.get(reverse("surveys:callback_print", args=[mine.pk])).content.decode()
    assert "回访记录" in sheet and "138****5678" in sheet and "13800005678" not in sheet
    client.force_login(handler)
    assert client.get(reverse("surveys:callback_print", args=[mine.pk])).status_code in {403, 404}
    assert client.get(reverse("surveys:callback_export")).status_code == 403


def test_rating_export_holds_only_the_handlers_unit(client, handler, station, other_station):
    mine = _callback(station).rating
    _callback(other_station)
    client.force_login(handler)

    rows = _rows(client.get(reverse("surveys:rating_export")))

    assert [r[0] for r in rows[1:]] == [mine.pk]


def test_sms_export_is_center_only(client, center, handler):
    client.force_login(handler)
    assert client.get(reverse("sms:outbox_export")).status_code == 403
    client.force_login(center)
    response = client.get(reverse("sms:outbox_export"))
    assert _rows(response)[0][:3] == ("编号", "创建时间", "手机号")
