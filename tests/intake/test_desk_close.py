"""答复并办结 on the desk: the public reply box prefilled from the category's reply template,
editable and required; a refused close keeps the typed text; the units are picked with the
searchable picker, never a Ctrl+click multi-select."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from intake.models import Appeal
from workorders.models import ReplyTemplate

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "desk-panel"}


@pytest.fixture
def consultation(make_appeal, categories):
    category = next(iter(categories.values()))
    appeal = make_appeal(content="请问办理居住证需要带哪些材料？", kind="consultation", category=category)
    ReplyTemplate.objects.create(category=category, text="您的{category}诉求（{code}）已由{unit}答复：")
    ReplyTemplate.objects.create(category=None, text="默认答复模板")
    return appeal


def test_the_panel_offers_the_close_box_prefilled_from_the_category_template(client, center, consultation):
    client.force_login(center)
    queue = "status=new&q=%E5%B1%85%E4%BD%8F%E8%AF%81"
    html = client.get(f"{reverse('intake:desk')}?{queue}&open={consultation.pk}", **HTMX).content.decode()
    box = re.search(r'<form method="post" action="[^"]+/close/" data-testid="panel-close-form">.*?</form>', html, re.S)
    assert box, "the panel has its own close form"
    expected = f"您的{consultation.category.name}诉求（{consultation.tracking_code}）已由{center.unit.name}答复："
    assert f">{expected}</textarea>" in box.group(0)
    assert 'name="reply"' in box.group(0) and "required" in box.group(0)
    # It returns to the same filtered desk.
    assert f'name="next" value="/appeals/?{queue.replace("&", "&amp;")}"' in box.group(0)


def test_the_appeal_page_close_box_is_prefilled_too(client, center, consultation):
    client.force_login(center)
    page = client.get(reverse("intake:appeal", args=[consultation.pk])).content.decode()
    assert f"（{consultation.tracking_code}）已由" in page


def test_the_default_template_serves_a_category_without_its_own(client, center, make_appeal, categories):
    ReplyTemplate.objects.create(category=None, text="感谢您的来电，{code}已办结。")
    appeal = make_appeal(content="咨询出入境办证时间")
    client.force_login(center)
    html = client.get(f"{reverse('intake:desk')}?open={appeal.pk}", **HTMX).content.decode()
    assert f"感谢您的来电，{appeal.tracking_code}已办结。</textarea>" in html


def test_a_close_without_a_reply_comes_back_with_the_note_kept(client, center, consultation):
    client.force_login(center)
    back = "/appeals/?status=new&severity=yellow"
    response = client.post(
        reverse("intake:close", args=[consultation.pk]), {"reply": "  ", "note": "已电话联系群众说明", "next": back}
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert "已电话联系群众说明" in page and 'data-testid="field-error"' in page
    assert '<details class="action-box" id="close" open>' in page
    assert f'name="next" value="{back.replace("&", "&amp;")}"' in page
    consultation.refresh_from_db()
    assert consultation.status == "new"


def test_a_close_publishes_the_edited_reply_and_returns_to_the_desk(client, center, consultation):
    client.force_login(center)
    back = "/appeals/?status=new&severity=yellow"
    response = client.post(
        reverse("intake:close", args=[consultation.pk]),
        {"reply": "请携带身份证和租房合同到派出所办理。", "note": "", "next": back},
    )
    assert response.status_code == 302 and response["Location"] == back
    appeal = Appeal.objects.get(pk=consultation.pk)
    assert appeal.status == "closed" and appeal.public_reply == "请携带身份证和租房合同到派出所办理。"


def test_the_desk_panel_picks_units_with_the_searchable_picker(client, center, consultation):
    client.force_login(center)
    page = client.get(f"{reverse('intake:desk')}?open={consultation.pk}").content.decode()
    assert "js/unit_picker.js" in page
    selects = re.findall(r"<select[^>]*>", page)
    multiple = [s for s in selects if " multiple" in s]
    assert multiple, "the panel has the assisting units"
    assert all("data-unit-picker" in s for s in multiple), multiple
    assert any('name="unit"' in s and "data-unit-picker" in s for s in selects)
