"""Notifications to staff: stored once per dedupe key, listed and marked read on the page."""

from units.models import Notification
from units.services import leaders_of, notify


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
