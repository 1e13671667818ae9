"""我的视图: a user's named filter sets of a list, shown as tabs on that list; only the list's own
filter parameters are kept; rename and delete; per user; the same through /api/v1/saved-views/."""

from __future__ import annotations

import pytest
from django.http import QueryDict
from django.urls import reverse

from units.models import SavedView
from units.saved_views import MAX_VIEWS_PER_LIST, sanitise, save_view

pytestmark = pytest.mark.django_db


def test_it_keeps_only_the_lists_own_filter_parameters():
    kept = QueryDict(
        sanitise("desk", "status=new&severity=red&cursor=abc&page_size=20&open=5&evil=%3Cscript%3E&q=+夜市+烧烤+&unit=")
    )
    assert dict(kept.lists()) == {"status": ["new"], "severity": ["red"], "q": ["夜市 烧烤"]}
    assert QueryDict(sanitise("workspace", "tab=overdue&after=x|1&severity=red")).dict() == {
        "tab": "overdue",
        "severity": "red",
    }
    assert QueryDict(sanitise("callbacks", "status=pending&page=3&q=民警")).dict() == {"status": "pending", "q": "民警"}
    # Several values of one parameter (the desk's two statuses) survive, duplicates do not.
    assert QueryDict(sanitise("desk", "status=new&status=pending_dispatch&status=new")).getlist("status") == [
        "new",
        "pending_dispatch",
    ]


def test_it_saves_the_desks_filters_as_a_tab_and_opens_the_list_through_it(client, center):
    client.force_login(center)
    desk = client.get(reverse("intake:desk"), {"severity": "red", "status": "new", "cursor": "junk"})
    assert 'data-testid="saved-views"' in desk.content.decode()
    response = client.post(
        reverse("units:saved_views"),
        {"list_name": "desk", "name": " 红色 待研判 ", "query": "severity=red&status=new&cursor=junk&open=9"},
    )
    view = SavedView.objects.get(user=center)
    assert (view.name, view.list_name) == ("红色 待研判", "desk")
    assert QueryDict(view.query).dict() == {"severity": "red", "status": "new"}
    assert response.status_code == 302 and response["Location"] == f"/appeals/?{view.query}"
    page = client.get(response["Location"]).content.decode()
    assert f'href="/appeals/?{view.query.replace("&", "&amp;")}" class="saved-view active"' in page
    # Another filter set: the tab is there, not active.
    other = client.get(reverse("intake:desk"), {"severity": "blue"}).content.decode()
    assert 'class="saved-view active"' not in other and "红色 待研判" in other


def test_the_same_name_again_updates_the_view(client, center):
    client.force_login(center)
    client.post(reverse("units:saved_views"), {"list_name": "desk", "name": "我的", "query": "severity=red"})
    client.post(reverse("units:saved_views"), {"list_name": "desk", "name": "我的", "query": "severity=orange"})
    assert list(SavedView.objects.values_list("name", "query")) == [("我的", "severity=orange")]


def test_it_renames_and_deletes_ones_own_views_and_no_one_elses(client, center, handler):
    mine, _ = save_view(user=center, list_name="workspace", name="超期", query="tab=overdue")
    theirs, _ = save_view(user=handler, list_name="workspace", name="待签收", query="tab=to_sign")
    client.force_login(center)
    page = client.get(reverse("units:saved_views")).content.decode()
    assert "超期" in page and "待签收" not in page
    client.post(reverse("units:saved_view", args=[mine.pk]), {"action": "rename", "name": "超期工单"})
    mine.refresh_from_db()
    assert mine.name == "超期工单"
    assert client.post(reverse("units:saved_view", args=[theirs.pk]), {"action": "delete"}).status_code == 404
    assert client.post(reverse("units:saved_view", args=[mine.pk]), {"action": "junk"}).status_code == 400
    client.post(reverse("units:saved_view", args=[mine.pk]), {"action": "delete"})
    assert list(SavedView.objects.values_list("name", flat=True)) == ["待签收"]


def test_it_refuses_a_blank_name_an_unknown_list_and_too_many_views(client, center):
    client.force_login(center)
    response = client.post(
        reverse("units:saved_views"), {"list_name": "desk", "name": "  ", "query": "severity=red"}, follow=True
    )
    assert "请填写视图名称" in response.content.decode()
    # Back to the list with its own filters only.
    refused = client.post(
        reverse("units:saved_views"), {"list_name": "desk", "name": "", "query": "severity=red&next=//evil.example/"}
    )
    assert refused["Location"] == "/appeals/?severity=red"
    response = client.post(reverse("units:saved_views"), {"list_name": "nope", "name": "x"}, follow=True)
    assert response.status_code == 200 and "未知的列表" in response.content.decode()
    for n in range(MAX_VIEWS_PER_LIST):
        save_view(user=center, list_name="callbacks", name=f"视图{n}", query="status=pending")
    response = client.post(
        reverse("units:saved_views"), {"list_name": "callbacks", "name": "再一个", "query": ""}, follow=True
    )
    assert "最多保存" in response.content.decode()
    assert SavedView.objects.filter(user=center).count() == MAX_VIEWS_PER_LIST


def test_every_list_with_filters_shows_its_views(client, center, handler):
    save_view(user=center, list_name="callbacks", name="待回访", query="status=pending")
    save_view(user=center, list_name="deliveries", name="被拒收", query="status=failed")
    save_view(user=handler, list_name="workspace", name="超期", query="tab=overdue")
    for list_name, name, query in (
        ("ratings", "视图甲", "verdict=unsatisfied"),
        ("records", "视图乙", "business_type=1"),
        ("sms", "视图丙", "status=failed"),
        ("rating_points", "视图丁", "kind=window"),
    ):
        save_view(user=center, list_name=list_name, name=name, query=query)
    client.force_login(center)
    assert "待回访" in client.get(reverse("surveys:callback_desk")).content.decode()
    assert "被拒收" in client.get(reverse("feeds:deliveries")).content.decode()
    assert "视图甲" in client.get(reverse("surveys:rating_list")).content.decode()
    assert "视图乙" in client.get(reverse("surveys:record_list")).content.decode()
    assert "视图丙" in client.get(reverse("sms:outbox")).content.decode()
    assert "视图丁" in client.get(reverse("surveys:rating_point_list")).content.decode()
    mine = SavedView.objects.filter(user=center)
    assert mine.get(list_name="sms").query == "status=failed"
    client.force_login(handler)
    assert (
        'class="saved-view active"' in client.get(reverse("workorders:workspace"), {"tab": "overdue"}).content.decode()
    )


def test_the_api_lists_creates_edits_and_deletes_ones_own_views(api, center, handler):
    save_view(user=handler, list_name="desk", name="他的", query="severity=red")
    api.force_authenticate(center)
    created = api.post(
        "/api/v1/saved-views/",
        {"list_name": "desk", "name": "红色", "query": "severity=red&cursor=x&junk=1"},
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["query"] == "severity=red" and body["url"] == "/appeals/?severity=red"
    again = api.post("/api/v1/saved-views/", {"list_name": "desk", "name": "红色", "query": ""}, format="json")
    assert again.status_code == 400 and "name" in again.json()
    assert [v["name"] for v in api.get("/api/v1/saved-views/").json()["results"]] == ["红色"]
    theirs = SavedView.objects.get(user=handler)
    assert api.get(f"/api/v1/saved-views/{theirs.pk}/").status_code == 404
    assert api.delete(f"/api/v1/saved-views/{theirs.pk}/").status_code == 404
    pk = body["id"]
    renamed = api.patch(
        f"/api/v1/saved-views/{pk}/", {"name": "红色未派", "query": "severity=red&page=2"}, format="json"
    )
    assert renamed.status_code == 200 and renamed.json()["name"] == "红色未派"
    assert renamed.json()["query"] == "severity=red"
    assert api.delete(f"/api/v1/saved-views/{pk}/").status_code == 204
    assert not SavedView.objects.filter(user=center).exists()
