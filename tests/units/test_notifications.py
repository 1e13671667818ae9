"""Notifications to staff: stored once per dedupe key; three levels (紧急/提醒/通知) chosen where
they are sent; the list filtered by level, paged, marked read all at once or one by one on the way
to its object; urgent ones pinned on the home page; unread and to-do counts beside menu entries."""

from __future__ import annotations

import itertools
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from intake.models import Appeal
from intake.phones import phone_hash
from units.models import Notification
from units.services import leaders_of, notify

pytestmark = pytest.mark.django_db
L = Notification.Level
_seq = itertools.count(1)


def _appeal(**kwargs) -> Appeal:
    phone = "+8613800001234"
    defaults = {
        "channel": "hotline",
        "content": f"小区门口夜间烧烤噪音扰民（{next(_seq)}）",
        "citizen_name": "张建国",
        "citizen_phone": phone,
        "citizen_phone_hash": phone_hash(phone),
        "severity": "yellow",
        "status": "pending_dispatch",
    }
    defaults.update(kwargs)
    return Appeal.objects.create(**defaults)


def _order(unit, actor):
    from workorders import services

    return services.dispatch_appeal(_appeal(), unit=unit, actor=actor)


def test_it_notifies_once_per_dedupe_key(handler, leader):
    notify(users=[handler, leader], text="工单即将超期", dedupe_key="urge:1:50")
    notify(users=[handler, leader], text="工单即将超期", dedupe_key="urge:1:50")
    assert Notification.objects.filter(dedupe_key="urge:1:50").count() == 2


def test_it_finds_the_leaders_of_a_unit(leader, station):
    assert leaders_of(station) == [leader]


def test_it_lists_and_marks_read(client, handler):
    notify(users=[handler], text="新工单待签收", url="/")
    client.force_login(handler)
    html = client.get("/units/notifications/").content.decode()
    assert "新工单待签收" in html
    client.post("/units/notifications/")
    assert not Notification.objects.filter(user=handler, read_at__isnull=True).exists()


# --- levels where notifications are sent ----------------------------------------------------------


def test_the_levels_are_called_urgent_reminder_notice():
    assert [str(label) for _value, label in L.choices] == ["通知", "提醒", "紧急"]


def test_a_risk_word_alert_is_urgent(center):
    from intake.services import alert_center

    appeal = _appeal(status="new", content="再不管我就去报复他们", risk_words="报复")
    assert alert_center(appeal.pk) == 1
    note = Notification.objects.get(user=center, dedupe_key=f"intake-risk-{appeal.pk}")
    assert note.level == L.ALERT and note.get_level_display() == "紧急"


def test_an_assignment_is_a_notice_a_deadline_a_reminder_and_only_a_listed_overdue_order_urgent(
    station, center, handler, leader, supervisor
):
    from workorders import services
    from workorders.choices import UrgeStage

    order = _order(station, center)
    assert Notification.objects.get(user=handler, dedupe_key__startswith="wo-dispatch:").level == L.INFO

    services._remind(order, stage=UrgeStage.HALF)
    assert Notification.objects.get(user=handler, dedupe_key__endswith=":1").level == L.WARNING

    services._remind(order, stage=UrgeStage.DUE)  # overdue, not listed: a reminder
    assert set(Notification.objects.filter(dedupe_key__endswith=":3").values_list("level", flat=True)) == {L.WARNING}

    listed = _order(station, center)
    services.list_order(listed, actor=supervisor, reason="群众多次反映")
    assert Notification.objects.get(user=supervisor, dedupe_key__startswith="wo-listed:").level == L.INFO
    listed.refresh_from_db()
    services._remind(listed, stage=UrgeStage.DUE)
    key = f"wo-urge:{listed.pk}:{listed.deadline_version}:3"
    levels = set(Notification.objects.filter(dedupe_key=key).values_list("level", flat=True))
    assert levels == {L.ALERT}
    assert Notification.objects.filter(user=leader, dedupe_key=key).exists()


def test_a_returned_order_is_a_notice_and_a_late_signature_a_reminder(station, center, handler):
    from workorders import services

    order = _order(station, center)
    services.sign_for(order, actor=handler)
    services.start(order, actor=handler)
    services.submit_feedback(
        order, actor=handler, text="已到现场处理，噪音已消除。", result="resolved", contact_method="phone"
    )
    services.return_for_rework(order, actor=center, reason="未写明处理结果")
    assert Notification.objects.get(user=handler, dedupe_key__startswith="wo-return:").level == L.INFO

    late = _order(station, center)
    late.sign_deadline = timezone.now() - timedelta(minutes=1)
    late.save(update_fields=["sign_deadline"])
    assert services._claim_sign_late(late.pk, now=timezone.now()) == 1
    assert Notification.objects.get(user=handler, dedupe_key__startswith="wo-sign-late:").level == L.WARNING


def test_a_qr_bad_review_is_urgent(station, center, leader):
    from surveys import qr
    from surveys.catalogue import seed_defaults
    from surveys.services.qr_ratings import save_rating_point

    seed_defaults()
    point = save_rating_point(None, actor=center, unit=station, kind="window", name="户籍窗口")
    client = Client()
    client.get(qr.rating_path(point))
    client.post(qr.rating_path(point), {"verdict": "dissatisfied", "tags": ["attitude_bad"], "text": "民警不理人"})
    note = Notification.objects.get(user=leader, dedupe_key__startswith="surveys:qr-bad-review:")
    assert note.level == L.ALERT


# --- the list --------------------------------------------------------------------------------------


def test_it_filters_by_level_in_the_url(client, handler):
    notify(users=[handler], text="风险预警甲", level=L.ALERT)
    notify(users=[handler], text="即将到期乙", level=L.WARNING)
    notify(users=[handler], text="新工单丙")
    client.force_login(handler)
    html = client.get("/units/notifications/?level=alert").content.decode()
    assert "风险预警甲" in html and "即将到期乙" not in html and "新工单丙" not in html
    html = client.get("/units/notifications/?level=info").content.decode()
    assert "新工单丙" in html and "风险预警甲" not in html
    assert client.get("/units/notifications/?level=nonsense").status_code == 400


def test_it_pages_by_keyset(client, handler, settings):
    for i in range(55):
        notify(users=[handler], text=f"消息第{i:02d}条")
    client.force_login(handler)
    first = client.get("/units/notifications/")
    page = first.context["page"]
    assert len(page["items"]) == 50 and page["next"]
    assert "消息第54条" in first.content.decode() and "消息第04条" not in first.content.decode()
    second = client.get("/units/notifications/", {"before": page["next"]})
    texts = [n.text for n in second.context["page"]["items"]]
    assert texts == [f"消息第{i:02d}条" for i in range(4, -1, -1)]
    assert second.context["page"]["next"] is None
    assert client.get("/units/notifications/", {"before": "x|y"}).status_code == 400


def test_it_marks_all_read_with_a_post_only_and_only_the_users_own(client, handler, handler2):
    notify(users=[handler, handler2], text="新工单待签收", level=L.ALERT)
    notify(users=[handler], text="即将到期", level=L.WARNING)
    client.force_login(handler)
    assert client.get("/units/notifications/read-all/").status_code == 405
    response = client.post("/units/notifications/read-all/?level=alert")
    assert response.status_code == 302 and response["Location"] == "/units/notifications/?level=alert"
    assert not Notification.objects.filter(user=handler, read_at__isnull=True).exists()
    assert Notification.objects.filter(user=handler2, read_at__isnull=True).count() == 1


def test_the_mark_all_read_button_needs_the_csrf_token(handler):
    client = Client(enforce_csrf_checks=True)
    client.force_login(handler)
    notify(users=[handler], text="新工单待签收")
    assert client.post("/units/notifications/read-all/").status_code == 403
    assert Notification.objects.filter(user=handler, read_at__isnull=True).count() == 1


def test_one_click_marks_read_and_goes_to_the_object(client, handler, handler2):
    (note,) = notify(users=[handler], text="新工单 WO1", url="/workorders/12/?tab=to_sign")
    client.force_login(handler2)
    assert client.get(f"/units/notifications/{note.pk}/go/").status_code == 404  # not his
    client.force_login(handler)
    html = client.get("/units/notifications/").content.decode()
    assert f'href="/units/notifications/{note.pk}/go/"' in html
    response = client.get(f"/units/notifications/{note.pk}/go/")
    assert response.status_code == 302 and response["Location"] == "/workorders/12/?tab=to_sign"
    note.refresh_from_db()
    assert note.read_at is not None


@pytest.mark.parametrize(
    "url", ["https://evil.example/x", "//evil.example/x", "/\\evil.example", "javascript:alert(1)", "", "relative/x"]
)
def test_the_go_link_refuses_anything_but_a_local_path(client, handler, url):
    note = Notification.objects.create(user=handler, text="外部链接", url=url)
    client.force_login(handler)
    response = client.get(f"/units/notifications/{note.pk}/go/")
    assert response.status_code == 302 and response["Location"] == "/units/notifications/"
    note.refresh_from_db()
    assert note.read_at is not None


# --- home page and menu ---------------------------------------------------------------------------


def test_urgent_unread_ones_are_pinned_on_the_home_page(client, handler):
    for i in range(7):
        notify(users=[handler], text=f"紧急事项{i}", level=L.ALERT, url="/workorders/")
    notify(users=[handler], text="普通提醒", level=L.WARNING)
    (read,) = notify(users=[handler], text="已读紧急", level=L.ALERT)
    read.read_at = timezone.now()
    read.save()
    client.force_login(handler)
    html = client.get("/").content.decode()
    assert 'data-testid="pinned-urgent"' in html
    assert html.count('data-testid="pinned-notification"') == 5
    assert "紧急事项6" in html and "紧急事项1" not in html and "普通提醒" not in html and "已读紧急" not in html
    assert 'href="/units/notifications/?level=alert"' in html


def test_nothing_is_pinned_without_urgent_unread(client, handler):
    notify(users=[handler], text="普通提醒", level=L.WARNING)
    client.force_login(handler)
    assert 'data-testid="pinned-urgent"' not in client.get("/").content.decode()


def _counts(client, path="/units/"):
    """{menu label: [(count title, text, urgent)]} as the sidebar shows them."""
    context = client.get(path).context
    return {
        str(i["label"]): [(str(c["title"]), c["text"], c["urgent"]) for c in i["counts"]] for i in context["nav_items"]
    }


def test_the_menu_shows_unread_and_urgent_unread(client, handler):
    notify(users=[handler], text="甲", level=L.ALERT)
    notify(users=[handler], text="乙")
    client.force_login(handler)
    counts = _counts(client)
    assert counts["消息"] == [("未读", "2", False), ("紧急", "1", True)]
    html = client.get("/units/").content.decode()
    assert 'class="nav-count nav-count-urgent"' in html


def test_center_staff_see_appeals_to_triage_and_orders_to_review(client, center, station, handler):
    from workorders.choices import WorkOrderStatus
    from workorders.models import WorkOrder

    for _ in range(3):
        _appeal(status="new")
    _appeal(status="pending_dispatch")
    order = _order(station, center)
    WorkOrder.objects.filter(pk=order.pk).update(status=WorkOrderStatus.FEEDBACK_SUBMITTED)
    client.force_login(center)
    counts = _counts(client)
    assert counts["分诊台"] == [("待研判", "3", False)]
    assert counts["待审核"] == [("待审核", "1", False)]
    assert "工单" not in counts or counts["工单"] == []


def test_a_handler_sees_orders_to_sign_of_his_own_unit_only(client, center, station, other_station, handler, handler2):
    for _ in range(2):
        _order(station, center)
    _order(other_station, center)
    _appeal(status="new")
    client.force_login(handler)
    counts = _counts(client)
    assert counts["工单"] == [("待签收", "2", False)]
    assert "分诊台" not in counts
    client.force_login(handler2)
    assert _counts(client)["工单"] == [("待签收", "1", False)]


def test_counts_stop_at_99_plus(client, center):
    Appeal.objects.bulk_create(
        [
            Appeal(
                channel="hotline",
                content=f"噪音{i}",
                status="new",
                severity="yellow",
                tracking_code=f"T{i:07d}",
            )
            for i in range(120)
        ]
    )
    client.force_login(center)
    with CaptureQueriesContext(connection) as queries:
        counts = _counts(client)
    assert counts["分诊台"] == [("待研判", "99+", False)]
    counting = [q["sql"] for q in queries if re.search(r"LIMIT 100\b", q["sql"])]
    assert len(counting) == 1  # every menu count in one statement, each one bounded


def test_counts_are_computed_once_per_request(rf, center, django_assert_num_queries):
    from units.context_processors import navigation

    request = rf.get("/units/")
    request.user = center
    first = navigation(request)
    with django_assert_num_queries(0):
        second = navigation(request)
    assert first["nav_items"] == second["nav_items"]


def test_a_failing_count_shows_nothing_and_the_page_still_renders(client, center, monkeypatch):
    from units import navigation

    def broken(user):
        return Appeal.objects.extra(where=["no_such_column = 1"])

    items = navigation._collect("NAV_ITEMS")
    desk = next(i for i in items if i.url_name == "intake:desk")
    patched = tuple(
        navigation.NavItem(
            i.label, i.url_name, roles=i.roles, order=i.order, counts=(navigation.NavCount("待研判", broken),)
        )
        if i is desk
        else i
        for i in items
    )
    monkeypatch.setattr(navigation, "_collect", lambda attr: patched if attr == "NAV_ITEMS" else ())
    client.force_login(center)
    response = client.get("/units/")
    assert response.status_code == 200
    assert all(not i["counts"] for i in response.context["nav_items"])
    assert "滨江派出所" in response.content.decode()  # the page's own queries still ran


def test_the_home_page_queries_do_not_grow_with_notifications_or_to_dos(client, center):
    client.force_login(center)
    client.get("/")  # warm caches (content types, sessions)
    with CaptureQueriesContext(connection) as few:
        assert client.get("/").status_code == 200
    for i in range(30):
        notify(users=[center], text=f"紧急{i}", level=L.ALERT)
        _appeal(status="new")
    with CaptureQueriesContext(connection) as many:
        assert client.get("/").status_code == 200
    assert len(many) == len(few)
    assert len(many) <= 30  # 22 for center staff when this was written
