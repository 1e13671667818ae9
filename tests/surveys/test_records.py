"""Service records: the platform push of SPEC §11, file imports, and their row-by-row reports."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from openpyxl import Workbook

from surveys.models import ServiceRecord

pytestmark = pytest.mark.django_db
PUSH = "/api/v1/feeds/service-records/"


@pytest.fixture
def records_key(city):
    from feeds.choices import FeedKind
    from feeds.models import FeedSource

    source = FeedSource(code="service-records", name="警务业务系统", kind=FeedKind.SERVICE_RECORDS)
    source.set_key("test-records-key")
    source.save()
    return "test-records-key"


def _record(i, **overrides):
    return {
        "external_id": f"JQ2026112000{i:02d}",
        "business_type": "110",
        "served_at": "2026-11-20T10:15:00+08:00",
        "unit_code": "LJ101",
        "officer_code": "",
        "citizen_phone": f"1380000{i:04d}",
        **overrides,
    }


def test_it_takes_a_pushed_list_once_and_reports_each_rejection(api, records_key):
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {records_key}")
    payload = [
        _record(1),
        _record(2, business_type="122"),
        _record(3, unit_code="NOPE"),
        _record(4, citizen_phone="12345"),
        _record(5, served_at="yesterday"),
        _record(1),  # the same record twice in one push
    ]
    first = api.post(PUSH, payload, format="json")
    assert first.status_code == 200
    body = first.json()
    assert (body["created"], body["existing"], body["rejected"]) == (2, 1, 3)
    assert [e["index"] for e in body["errors"]] == [2, 3, 4]
    assert "未知的单位代码" in body["errors"][0]["reason"]
    assert "电话" in body["errors"][1]["reason"]
    assert "办理时间" in body["errors"][2]["reason"]
    again = api.post(PUSH, payload, format="json").json()
    assert (again["created"], again["existing"], again["rejected"]) == (0, 3, 3)
    assert ServiceRecord.objects.count() == 2
    record = ServiceRecord.objects.get(external_id="JQ202611200001")
    assert record.citizen_phone == "+8613800000001"
    assert record.unit.code == "LJ101" and record.source == "service-records"


def test_it_refuses_a_push_without_a_valid_key_or_over_the_limit(api, records_key):
    assert api.post(PUSH, [_record(1)], format="json").status_code == 401
    api.credentials(HTTP_AUTHORIZATION="Bearer wrong-key")
    assert api.post(PUSH, [_record(1)], format="json").status_code == 401
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {records_key}")
    too_many = api.post(PUSH, [_record(1)] * 1001, format="json")
    assert too_many.status_code == 400 and "1000" in too_many.json()["detail"]
    assert api.post(PUSH, {"external_id": "x"}, format="json").status_code == 400
    assert not ServiceRecord.objects.exists()


def test_it_refuses_a_push_from_a_staff_session(api, center):
    assert api.as_user(center).post(PUSH, [_record(1)], format="json").status_code in (401, 403)
    assert not ServiceRecord.objects.exists()


def _xlsx(rows) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(["业务编号", "业务类型", "办理时间", "单位代码", "警号", "群众电话"])
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_it_imports_a_file_from_the_staff_page_with_a_row_report(client, center):
    data = _xlsx(
        [
            ["HJ001", "户政业务", "2026-11-20 09:30", "LJ101", "", "13800000011"],
            ["HJ002", "household", "2026-11-20", "LJ102", "", "13800000012"],
            ["HJ003", "不存在的业务", "2026-11-20", "LJ101", "", "13800000013"],
        ]
    )
    client.force_login(center)
    upload = io.BytesIO(data)
    upload.name = "records.xlsx"
    page = client.post("/surveys/records/import/", {"file": upload}).content.decode()
    assert "未知的业务类型" in page
    assert ServiceRecord.objects.count() == 2
    upload = io.BytesIO(data)
    upload.name = "records.xlsx"
    client.post("/surveys/records/import/", {"file": upload})
    assert ServiceRecord.objects.count() == 2


def test_it_imports_a_csv_from_the_command(tmp_path, city):
    path = tmp_path / "records.csv"
    path.write_text(
        "external_id,business_type,served_at,unit_code,officer_code,citizen_phone\n"
        "CJ001,vehicle,2026-11-20 14:00,LJ103,,13800000021\n"
        "CJ002,vehicle,2026-11-20 14:00,LJ103,,not-a-phone\n",
        encoding="utf-8",
    )
    out = io.StringIO()
    call_command("import_service_records", str(path), stdout=out)
    call_command("import_service_records", str(path), stdout=out)
    assert ServiceRecord.objects.count() == 1
    assert "row 3" in out.getvalue()


def test_it_keeps_unit_users_to_their_own_records_and_center_staff_to_all(api, handler, handler2, center, records_key):
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {records_key}")
    api.post(PUSH, [_record(1), _record(2, unit_code="LJ102")], format="json")
    api.credentials()
    mine = api.as_user(handler).get("/api/v1/service-records/").json()["results"]
    assert [r["external_id"] for r in mine] == ["JQ202611200001"]
    assert mine[0]["citizen_phone"] == "138****0001"
    other = ServiceRecord.objects.get(unit__code="LJ102")
    assert api.as_user(handler).get(f"/api/v1/service-records/{other.pk}/").status_code == 404
    assert len(api.as_user(center).get("/api/v1/service-records/").json()["results"]) == 2


def test_it_imports_through_the_feeds_batch_engine_once(city, records_key, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from feeds.models import FeedSource, ImportRowError
    from feeds.services import start_import

    settings.MEDIA_ROOT = str(tmp_path)
    csv = (
        "业务编号,业务类型,办理时间,单位代码,警号,群众电话\n"
        "CR001,出入境业务,2026-11-20 10:00,LJ101,,13800000031\n"
        "CR002,出入境业务,2026-11-20 10:00,LJ999,,13800000032\n"
    ).encode()
    source = FeedSource.objects.get(code="service-records")
    batches = []
    for _ in range(2):
        batches.append(
            start_import(
                kind="service_records",
                source=source,
                upload=SimpleUploadedFile("records.csv", csv, content_type="text/csv"),
                actor=None,
                run_now=True,
            )
        )
    batch = batches[1]
    assert batch.pk == batches[0].pk and batch.earlier == "done"  # one file, one batch
    assert batch.status == "done", batch.error
    assert (batch.created, batch.duplicates, batch.rejected) == (1, 0, 1)
    assert ServiceRecord.objects.count() == 1
    assert ImportRowError.objects.get(batch=batch).row_number == 3
    assert ServiceRecord.objects.get().import_batch_id is not None


def test_it_sends_with_twilio_only_when_sending_credentials_are_set():
    import os
    import subprocess
    import sys

    code = "from django.conf import settings; print(settings.SMS_BACKEND)"
    base = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "SMS_BACKEND"))}
    base.update(DJANGO_SETTINGS_MODULE="opinion_center.settings", DJANGO_DEBUG="1")

    def backend(**extra):
        result = subprocess.run(
            [sys.executable, "-c", f"import django; django.setup(); {code}"],
            env={**base, **extra},
            capture_output=True,
            text=True,
            check=True,
        )
        return result.stdout.strip().splitlines()[-1]

    assert backend(TWILIO_AUTH_TOKEN="t") == "sms.backends.OutboxBackend"
    assert backend(TWILIO_ACCOUNT_SID="AC1", TWILIO_AUTH_TOKEN="t") == "sms.backends.OutboxBackend"
    assert (
        backend(TWILIO_ACCOUNT_SID="AC1", TWILIO_AUTH_TOKEN="t", TWILIO_MESSAGING_SERVICE_SID="MG1")
        == "sms.backends.TwilioBackend"
    )
    assert backend(TWILIO_ACCOUNT_SID="AC1", TWILIO_AUTH_TOKEN="t", TWILIO_FROM_NUMBER="+1500") == (
        "sms.backends.TwilioBackend"
    )
