"""Files the product hands out — import error reports (CSV and the report page), bulletins (Excel,
the print page the PDF is made from, the API) — carry no full phone and no full ID-card number,
even where a citizen wrote them into the text. ``units.logging.mask`` is the one masking rule,
shared with the logs."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from analytics import services as analytics
from analytics.exports import bulletin_xlsx
from feeds.choices import FeedKind
from feeds.models import FeedSource
from feeds.services import start_import
from intake import services as intake
from intake.choices import Channel
from tests.analytics.conftest import at
from units.logging import mask

from .conftest import ID_CARD, MASKED_ID_CARD, leaks

pytestmark = pytest.mark.django_db

TEXT_PHONE = "13800007101"
COLUMN_PHONE = "13800007102"
OTHER_ID_CARD = "44030419800101123X"  # obviously fake as well


def xlsx_text(data: bytes) -> str:
    """Every XML part of a workbook (cells live in sharedStrings.xml and the sheets)."""
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        return "".join(book.read(name).decode("utf-8") for name in book.namelist() if name.endswith(".xml"))


def test_the_one_rule_masks_id_cards_and_phones_in_free_text():
    text = f"身份证{ID_CARD}，另一个{OTHER_ID_CARD}，电话{TEXT_PHONE}"
    assert mask(text) == f"身份证{MASKED_ID_CARD}，另一个440304********123X，电话138****7101"
    # Durations and long order numbers are not ID-card numbers (no birth date in them).
    assert mask("took 0.011116123456783951s") == "took 0.011116123456783951s"
    assert mask("order 110105999999999999") == "order 110105999999999999"


@pytest.mark.parametrize("method", ["orm", "copy"])
def test_the_import_error_report_masks_numbers_written_anywhere_in_a_row(
    client, city, center, settings, tmp_path, method
):
    settings.MEDIA_ROOT = str(tmp_path)
    source = FeedSource.objects.create(
        code="12345", name="12345政务服务热线", kind="appeals", channel=Channel.FEED_12345
    )
    header = "来源编号,受理时间,诉求人,联系电话,诉求内容,地址,分类,涉企"
    rows = [
        # No external id: rejected, the valid phone column and the text are kept in the report.
        f",2026-11-20 10:10,测试乙,{COLUMN_PHONE},身份证{ID_CARD}被冒用，回电{TEXT_PHONE},滨江路1号,,",
        # A bad date: rejected, an ID-card number in the address column.
        f"PD-2,2026-02-30 10:00,测试丙,,噪音扰民,{OTHER_ID_CARD},,",
    ]
    data = ("\r\n".join([header, *rows]) + "\r\n").encode("utf-8-sig")
    batch = start_import(
        kind=FeedKind.APPEALS,
        source=source,
        upload=SimpleUploadedFile("appeals.csv", data),
        actor=center,
        run_now=True,
        method=method,
    )
    batch.refresh_from_db()
    assert batch.rejected == 2
    client.force_login(center)
    csv_body = b"".join(client.get(reverse("feeds:batch-errors", args=[batch.pk])).streaming_content).decode()
    page = client.get(reverse("feeds:batch", args=[batch.pk])).content.decode()
    for body in (csv_body, page):
        assert "测试乙" in body  # the rows are there
        assert not leaks(body, [TEXT_PHONE, COLUMN_PHONE])
        assert ID_CARD not in body and OTHER_ID_CARD not in body
    assert MASKED_ID_CARD in csv_body and "138****7101" in csv_body


def test_bulletins_mask_numbers_in_hotspot_labels_in_excel_print_page_and_api(client, api, station, center):
    content = f"滨江路酒吧夜间噪音扰民严重，身份证{ID_CARD}，电话{TEXT_PHONE}"
    for i in range(3):
        appeal, _ = intake.create_appeal(
            channel="hotline",
            content=content,
            citizen_phone=f"1380000720{i}",
            received_at=at("2026-10-20", f"1{i}:00"),
        )
        appeal.unit = station
        appeal.save(update_fields=["unit"])
    with time_machine.travel(at("2026-11-02"), tick=False):
        bulletin, _ = analytics.generate_bulletin(kind="monthly", on=dt.date(2026, 10, 1))
    assert bulletin.content["hotspots"], "the appeals made no hotspot"
    xlsx = xlsx_text(bulletin_xlsx(bulletin))
    client.force_login(center)
    print_page = client.get(reverse("analytics:bulletin_print", args=[bulletin.pk])).content.decode()
    page = client.get(reverse("analytics:bulletin", args=[bulletin.pk])).content.decode()
    answer = api.as_user(center).get(f"/api/v1/bulletins/{bulletin.pk}/").content.decode()
    for body in (xlsx, print_page, page, answer, str(bulletin.content)):
        assert not leaks(body, [TEXT_PHONE])
        assert ID_CARD not in body
    assert "110105****" in xlsx
    # The appeal itself keeps the text as written: it is the record staff work from.
    appeal.refresh_from_db()
    assert ID_CARD in appeal.content


def test_the_excel_export_masks_old_bulletins_too(station):
    with time_machine.travel(at("2026-11-02"), tick=False):
        bulletin, _ = analytics.generate_bulletin(kind="monthly", on=dt.date(2026, 10, 1))
    # A bulletin kept from before labels were masked.
    bulletin.content["hotspots"] = [
        {
            "label": f"身份证{ID_CARD}电话{TEXT_PHONE}",
            "appeals": 3,
            "citizens": 3,
            "category": "",
            "address": f"滨江路{OTHER_ID_CARD}",
            "first_at": "2026-10-20T10:00:00+08:00",
            "last_at": "2026-10-20T12:00:00+08:00",
        }
    ]
    xlsx = xlsx_text(bulletin_xlsx(bulletin))
    assert ID_CARD not in xlsx and OTHER_ID_CARD not in xlsx and TEXT_PHONE not in xlsx
    assert MASKED_ID_CARD in xlsx
