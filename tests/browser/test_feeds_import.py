"""The import desk in a real browser: upload a 12345 export, watch it finish, read the report."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from feeds.choices import BatchStatus, FeedKind
from feeds.models import FeedSource, ImportBatch
from feeds.services import set_progress
from intake.choices import Channel

pytestmark = pytest.mark.django_db(transaction=True)

CSV = (
    "\ufeff来源编号,受理时间,诉求人,联系电话,诉求内容,地址,分类,涉企\r\n"
    "LJ-0001,2026-11-20 08:12,王建国,13800001201,菜市场门口乱停车，堵住消防通道。,滨江路88号,违章停车,否\r\n"
    "LJ-0002,2026-11-20 09:40,李秀英,138000012,烧烤店营业到凌晨，噪音扰民。,北湖小区,噪音扰民,否\r\n"
    "LJ-0003,,刘洋,13800001204,电动车被盗。,湖滨花园,,否\r\n"
).encode()


@pytest.fixture
def source(db):
    source = FeedSource(code="12345", name="12345政务服务便民热线", kind=FeedKind.APPEALS, channel=Channel.FEED_12345)
    source.set_key("browser-test-key")
    source.save()
    return source


def test_it_uploads_a_file_and_shows_the_row_report(page, login, live_server, source, celery_eager, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    login(page, "center")
    page.click("text=数据导入")
    page.select_option("#id_source", str(source.pk))
    page.set_input_files("#id_file", files=[{"name": "12345导出.csv", "mimeType": "text/csv", "buffer": CSV}])
    page.click("button:has-text('上传并导入')")
    page.wait_for_selector("[data-testid=row-errors]")
    assert page.locator("[data-testid=count-created]").inner_text() == "1"
    assert page.locator("[data-testid=count-rejected]").inner_text() == "2"
    rows = page.locator("[data-testid=row-error]")
    assert rows.count() == 2
    assert "电话号码格式不正确" in rows.nth(0).inner_text()
    assert "受理时间不能为空" in rows.nth(1).inner_text()
    assert "13800001204" not in page.content()  # phones masked in the report
    with page.expect_download() as download:
        page.click("[data-testid=errors-csv]")
    assert download.value.suggested_filename.endswith("-errors.csv")
    for src in page.eval_on_selector_all("script[src], link[href]", "els => els.map(e => e.src || e.href)"):
        assert src.startswith(live_server.url), src


def test_it_polls_a_running_batch_and_shows_the_report_when_it_ends(page, login, live_server, source):
    batch = ImportBatch.objects.create(
        kind=FeedKind.APPEALS, source=source, filename="大文件.csv", status=BatchStatus.RUNNING
    )
    set_progress(batch.pk, 37)
    login(page, "center")
    page.goto(f"{live_server.url}/feeds/imports/{batch.pk}/")
    assert page.locator("[role=progressbar]").get_attribute("aria-valuenow") == "37"
    set_progress(batch.pk, 80)
    # A locator assertion, not wait_for_function: the page's CSP forbids the eval that uses.
    expect(page.locator("[role=progressbar]")).to_have_attribute("aria-valuenow", "80")
    ImportBatch.objects.filter(pk=batch.pk).update(status=BatchStatus.DONE, total_rows=5, created=5)
    page.wait_for_selector("[data-testid=batch-status][data-status=done]")
    page.wait_for_selector("text=所有行都通过了校验")
    assert page.locator("[data-testid=count-created]").inner_text() == "5"
