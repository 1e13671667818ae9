"""The hotline form: staff type a call in and see the caller's earlier appeals as they type."""

import pytest
from django.urls import reverse

from intake.models import Appeal

pytestmark = pytest.mark.django_db


def test_it_registers_a_call_and_proposes_the_severity(client, center, categories, risk_words):
    client.force_login(center)
    response = client.post(
        reverse("intake:hotline"),
        {
            "channel": "hotline",
            "citizen_phone": "13800001212",
            "citizen_name": "刘建国",
            "kind": "complaint",
            "category": categories["LAW-UNFAIR"].pk,
            "severity": "",
            "content": "对交通事故认定不服,民警偏袒对方",
            "next": "appeal",
        },
    )
    appeal = Appeal.objects.get()
    assert response.status_code == 302 and response.url == reverse("intake:appeal", args=[appeal.pk])
    assert appeal.severity == "orange" and appeal.created_by == center
    assert appeal.events.get(action="received").actor == center


def test_it_shows_errors_in_chinese(client, center, categories):
    client.force_login(center)
    response = client.post(
        reverse("intake:hotline"), {"channel": "hotline", "citizen_phone": "999", "kind": "complaint", "content": ""}
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "电话号码格式不正确" in body and "该字段是必填项" in body
    assert not Appeal.objects.exists()


def test_it_lists_the_callers_history_by_post_without_the_number_in_a_url(client, center, make_appeal):
    earlier = make_appeal(citizen_phone="13800001313", content="咨询驾驶证换证")
    make_appeal(citizen_phone="13800001314", content="别人的诉求")
    client.force_login(center)
    fragment = client.post(reverse("intake:caller_history"), {"citizen_phone": "138 0000 1313"}).content.decode()
    assert earlier.tracking_code in fragment and "别人的诉求" not in fragment
    assert "13800001313" not in fragment
    assert "输入来电号码" in client.post(reverse("intake:caller_history"), {"citizen_phone": "138"}).content.decode()
    assert client.get(reverse("intake:caller_history")).status_code == 405


def test_it_previews_the_proposed_severity_while_typing(client, center, categories, risk_words):
    client.force_login(center)
    url = reverse("intake:severity_preview")
    calm = client.post(url, {"content": "咨询身份证补办", "category": categories["LAW-UNFAIR"].pk}).content.decode()
    assert "橙色" in calm and "风险词" not in calm
    risky = client.post(url, {"content": "再不处理我就报复", "category": ""}).content.decode()
    assert "红色" in risky and "风险词：报复" in risky
    assert client.post(url, {"content": "x", "category": "999999"}).status_code == 200
