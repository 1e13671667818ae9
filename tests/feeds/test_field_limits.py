"""Field length limits on feed pushes and imports (the table in docs/intake.md).

A pushed 3 MB appeal once made its page time out; a push or an imported row over a limit is now
refused with the field's name and the limit (and, for a row, its line number).
"""

from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient

from feeds.choices import BatchStatus
from intake.models import Appeal

from .conftest import KEYS
from .test_imports import HEADER, csv_bytes, do_import, report, xlsx_bytes

PUSH = "/api/v1/feeds/12345/appeals/"


def push(data: dict):
    body = json.dumps(data, ensure_ascii=False).encode()
    return APIClient().post(
        PUSH, data=body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {KEYS['12345']}"
    )


def payload(**overrides) -> dict:
    data = {
        "external_id": "LIM-0001",
        "received_at": "2026-11-20T09:30:00+08:00",
        "citizen_phone": "13800001234",
        "content": "滨江路夜间施工噪音扰民。",
    }
    data.update(overrides)
    return data


def test_a_push_over_the_content_limit_is_refused_naming_field_and_limit(sources, city):
    response = push(payload(content="长" * 5001))
    assert response.status_code == 400, response.content
    assert response.json()["content"] == ["诉求内容不能超过5000个字符。"]
    assert not Appeal.objects.exists()


def test_a_push_of_3_megabytes_of_content_is_refused(sources, city):
    response = push(payload(content="长" * (1024 * 1024)))  # 3 MB of UTF-8
    assert response.status_code in (400, 413), response.content
    assert not Appeal.objects.exists()


def test_a_push_at_the_limit_is_received(sources, city):
    response = push(payload(content="长" * 5000))
    assert response.status_code == 201, response.content


def test_a_push_with_long_name_address_or_hint_is_refused(sources, city):
    response = push(payload(citizen_name="名" * 61, address="址" * 201, category_hint="类" * 101))
    assert response.status_code == 400
    errors = response.json()
    assert errors["citizen_name"] == ["诉求人不能超过60个字符。"]
    assert errors["address"] == ["地址不能超过200个字符。"]
    assert errors["category_hint"] == ["分类不能超过100个字符。"]


def rows() -> list[list[str]]:
    return [
        ["L-1", "2026-11-20 08:00", "王建国", "13800001301", "正常的一行。", "滨江路", "", "否"],
        ["L-2", "2026-11-20 08:05", "李秀英", "13800001302", "长" * 5001, "", "", "否"],
        ["L-3", "2026-11-20 08:10", "名" * 61, "", "地址和姓名太长。", "址" * 201, "类" * 101, "否"],
        ["L-4", "2026-11-20 08:15", "张伟", "", "长" * 5000, "", "", "否"],
    ]


EXPECTED = [
    (3, "诉求内容", "诉求内容不能超过5000个字符。"),
    (4, "分类", "分类不能超过100个字符。"),
    (4, "地址", "地址不能超过200个字符。"),
    (4, "诉求人", "诉求人不能超过60个字符。"),
]


@pytest.mark.parametrize("method", ["orm", "copy"])
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_an_imported_row_over_a_limit_is_rejected_with_its_line_number(sources, city, method, fmt):
    data = csv_bytes(rows()) if fmt == "csv" else xlsx_bytes(rows(), header=HEADER)
    batch = do_import(sources["12345"], data, name=f"appeals.{fmt}", method=method)
    assert batch.status == BatchStatus.DONE, batch.error
    assert (batch.total_rows, batch.created, batch.rejected) == (4, 2, 2)
    assert report(batch) == sorted(EXPECTED, key=lambda e: (e[0], e[1]))
    assert sorted(Appeal.objects.values_list("external_id", flat=True)) == ["L-1", "L-4"]
