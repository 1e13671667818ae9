"""Staff pages of the import desk: upload, progress, report, CSV of rejected rows, permissions."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from feeds.choices import BatchStatus
from feeds.models import ImportBatch
from feeds.services import set_progress
from intake.models import Appeal

from .test_imports import BAD, GOOD, csv_bytes


def upload(client, source, data: bytes, name="12345导出.csv", **extra):
    return client.post("/feeds/imports/", {"source": source.pk, "file": SimpleUploadedFile(name, data)}, **extra)


def test_it_uploads_a_file_and_shows_the_report_with_every_rejected_row(
    client, center, sources, celery_eager, django_capture_on_commit_callbacks
):
    client.force_login(center)
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, sources["12345"], csv_bytes(GOOD + BAD))
    batch = ImportBatch.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/feeds/imports/{batch.pk}/"
    assert (batch.status, batch.uploaded_by) == (BatchStatus.DONE, center)
    html = client.get(response["Location"]).content.decode()
    assert html.count('data-testid="row-error"') == 8
    assert "电话号码格式不正确。" in html and "与第 2 行的来源编号重复。" in html
    assert 'data-testid="count-created">2<' in html
    assert "hx-get" not in html  # finished: no more polling
    assert Appeal.objects.count() == 2

    listing = client.get("/feeds/imports/").content.decode()
    assert "12345导出.csv" in listing


def test_it_downloads_the_rejected_rows_as_csv_for_excel(client, center, sources):
    from feeds.services import start_import

    batch = start_import(
        kind="appeals",
        source=sources["12345"],
        upload=SimpleUploadedFile("a.csv", csv_bytes(GOOD + BAD)),
        actor=center,
        run_now=True,
    )
    client.force_login(center)
    response = client.get(f"/feeds/imports/{batch.pk}/errors.csv")
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0] == ["行号", "字段", "原因", "原始数据"]
    assert rows[1][:3] == ["4", "联系电话", "电话号码格式不正确。"]
    assert len(rows) == 9
    assert "13800001201" not in text


def test_it_shows_progress_while_a_batch_runs_and_polls_with_htmx(client, center, sources):
    batch = ImportBatch.objects.create(
        kind="appeals", source=sources["12345"], filename="big.csv", status=BatchStatus.RUNNING, uploaded_by=center
    )
    set_progress(batch.pk, 42)
    client.force_login(center)
    html = client.get(f"/feeds/imports/{batch.pk}/").content.decode()
    assert f'hx-get="/feeds/imports/{batch.pk}/?part=status"' in html
    assert 'aria-valuenow="42"' in html
    part = client.get(f"/feeds/imports/{batch.pk}/?part=status", HTTP_HX_REQUEST="true")
    assert "<html" not in part.content.decode()
    assert "HX-Refresh" not in part
    ImportBatch.objects.filter(pk=batch.pk).update(status=BatchStatus.DONE)
    done = client.get(f"/feeds/imports/{batch.pk}/?part=status", HTTP_HX_REQUEST="true")
    assert done["HX-Refresh"] == "true"


def test_it_explains_a_refused_upload_in_chinese(client, center, sources):
    client.force_login(center)
    response = upload(client, sources["12345"], b"%PDF-1.4", name="report.pdf")
    assert response.status_code == 200
    assert "只支持 CSV 或 XLSX 文件。" in response.content.decode()
    assert ImportBatch.objects.count() == 0


@pytest.mark.parametrize("username", ["handler", "leader", "handler2", "supervisor"])
def test_it_keeps_the_import_desk_from_other_roles(client, sources, city, username):
    batch = ImportBatch.objects.create(kind="appeals", source=sources["12345"], filename="a.csv")
    client.login(username=username, password="demo12345")
    assert client.get("/feeds/imports/").status_code == 403
    assert client.get(f"/feeds/imports/{batch.pk}/").status_code == 403
    assert client.get(f"/feeds/imports/{batch.pk}/errors.csv").status_code == 403
    assert upload(client, sources["12345"], csv_bytes(GOOD)).status_code == 403
    assert ImportBatch.objects.count() == 1


def test_it_sends_anonymous_visitors_to_the_login_page(client, sources):
    assert client.get("/feeds/imports/")["Location"].startswith("/login/")


def test_it_shows_the_menu_and_home_panel_to_center_staff_and_admins_only(client, city, sources):
    client.login(username="center", password="demo12345")
    html = client.get("/").content.decode()
    assert "数据导入" in html and "结果回传" in html and 'data-testid="panel-feeds"' in html
    client.login(username="handler", password="demo12345")
    html = client.get("/").content.decode()
    assert "数据导入" not in html and 'data-testid="panel-feeds"' not in html


def test_it_serves_batches_in_the_api_to_center_staff(api, center, handler, sources):
    ImportBatch.objects.create(kind="appeals", source=sources["12345"], filename="a.csv")
    assert api.as_user(handler).get("/api/v1/import-batches/").status_code == 403
    [item] = api.as_user(center).get("/api/v1/import-batches/").json()["results"]
    assert (item["source"], item["status"]) == ("12345", "queued")


def test_it_loads_the_demo_twice_without_duplicating(db, settings):
    from django.core.management import call_command

    settings.DEBUG = True  # the demo refuses to load without DEBUG (or --allow-production)

    from feeds.models import FeedSource

    call_command("load_demo", stdout=io.StringIO())
    counts = (FeedSource.objects.count(), ImportBatch.objects.count(), Appeal.objects.count())
    appeals = set(Appeal.objects.values_list("pk", flat=True))
    call_command("load_demo", stdout=io.StringIO())
    # The appeals a second load made, if any, by what made them (a channel and source id).
    again = list(Appeal.objects.exclude(pk__in=appeals).values_list("channel", "external_id", "received_at"))
    assert not again
    assert (FeedSource.objects.count(), ImportBatch.objects.count(), Appeal.objects.count()) == counts
    assert FeedSource.objects.get(code="12345").key_prefix == "demo-123"
    assert all(b.status == "done" and b.rejected > 0 for b in ImportBatch.objects.all())


def test_it_lists_batches_and_deliveries_with_a_fixed_number_of_queries(client, center, sources):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from feeds.models import DeliveryAttempt, ResultDelivery
    from intake.services import create_appeal

    def add(n: int, start: int) -> None:
        for i in range(start, start + n):
            ImportBatch.objects.create(kind="appeals", source=sources["12345"], filename=f"{i}.csv", uploaded_by=center)
            appeal, _ = create_appeal(channel="12345", external_id=f"Q-{i}", content="内容")
            delivery = ResultDelivery.objects.create(appeal=appeal, source=sources["12345"], payload={"result": "x"})
            DeliveryAttempt.objects.create(delivery=delivery, number=1, http_status=500)

    client.force_login(center)
    counts = []
    for start in (0, 3):
        add(3, start)
        with CaptureQueriesContext(connection) as imports:
            assert client.get("/feeds/imports/").status_code == 200
        with CaptureQueriesContext(connection) as deliveries:
            assert client.get("/feeds/deliveries/").status_code == 200
        counts.append((len(imports), len(deliveries)))
    assert counts[0] == counts[1]
