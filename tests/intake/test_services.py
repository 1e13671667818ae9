"""Receiving appeals from every channel and every change of their status (on PostgreSQL)."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from intake import services
from intake.choices import AppealStatus, Channel, Kind, Severity
from intake.models import Appeal, AppealEvent
from intake.phones import phone_hash
from tests.helpers import stored_column
from units.errors import Refused
from units.models import Notification

pytestmark = pytest.mark.django_db


def test_it_receives_every_channel(make_appeal):
    for channel in Channel.values:
        appeal = make_appeal(channel=channel, content=f"渠道测试 {channel} 的诉求内容")
        assert appeal.channel == channel
        assert appeal.events.filter(action="received").count() == 1
        assert len(appeal.tracking_code) == 8
    assert Appeal.objects.get(channel=Channel.ENTERPRISE).is_enterprise


def test_it_never_duplicates_a_resent_item(city):
    first, created = services.create_appeal(
        channel="12345", external_id="GS-2026-001", content="占道经营堵塞交通", citizen_phone="13800001111"
    )
    again, created_again = services.create_appeal(
        channel="12345", external_id="GS-2026-001", content="改了的内容", citizen_phone="13800002222"
    )
    assert created and not created_again
    assert again.pk == first.pk
    again.refresh_from_db()
    assert again.content == "占道经营堵塞交通"
    assert Appeal.objects.filter(channel="12345", external_id="GS-2026-001").count() == 1
    assert AppealEvent.objects.filter(appeal=first).count() == 1
    # The same external id on another channel is another appeal.
    _, other = services.create_appeal(channel="12389", external_id="GS-2026-001", content="另一条")
    assert other


def test_it_stores_the_phone_encrypted_and_hashed(city):
    appeal, _ = services.create_appeal(channel="hotline", content="咨询户口迁移", citizen_phone="138 0000 1234")
    appeal.refresh_from_db()
    assert appeal.citizen_phone == "+8613800001234"
    assert appeal.masked_phone == "138****1234"
    assert appeal.citizen_phone_hash == phone_hash("+8613800001234")
    assert "13800001234" not in stored_column(appeal, "citizen_phone")


def test_it_accepts_landlines_and_refuses_bad_numbers_in_chinese(city):
    appeal, _ = services.create_appeal(channel="hotline", content="座机来电", citizen_phone="024-23456789")
    assert appeal.citizen_phone == "+862423456789"
    with pytest.raises(ValidationError) as exc:
        services.create_appeal(channel="hotline", content="号码错误", citizen_phone="12345")
    assert "电话号码格式不正确" in str(exc.value.message_dict["citizen_phone"])
    with pytest.raises(ValidationError) as exc:
        services.create_appeal(channel="hotline", content="  ")
    assert "请填写诉求内容" in str(exc.value)
    with pytest.raises(ValidationError):
        services.create_appeal(channel="fax", content="未知渠道")
    with pytest.raises(ValidationError) as exc:
        services.create_appeal(channel="12345", external_id="X" * 65, content="编号过长")
    assert "来源编号" in str(exc.value)


def test_it_proposes_red_and_alerts_once_on_risk_words(
    make_appeal, categories, risk_words, center, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        appeal = make_appeal(content="派出所再不管我就去报复他们", category=categories["ORDER-NOISE"])
    assert appeal.severity == Severity.RED and appeal.severity_rank == 0
    assert appeal.risk_words == "报复"
    assert appeal.events.filter(action="risk_alert").count() == 1
    alerts = Notification.objects.filter(user=center, dedupe_key=f"intake-risk-{appeal.pk}")
    assert alerts.count() == 1 and alerts.get().level == "alert"
    assert services.alert_center(appeal.pk) == 0  # a second run tells nobody twice
    assert alerts.count() == 1


def test_it_proposes_the_category_default_otherwise(make_appeal, categories, risk_words):
    assert make_appeal(category=categories["LAW-UNFAIR"]).severity == Severity.ORANGE
    assert make_appeal(category=categories["ORDER-NOISE"]).severity == Severity.BLUE
    assert make_appeal().severity == Severity.BLUE
    assert make_appeal(category=categories["ORDER-NOISE"], severity="yellow").severity == Severity.YELLOW


def test_it_maps_category_hints(make_appeal, categories):
    assert make_appeal(category_hint="噪音扰民").category == categories["ORDER-NOISE"]
    assert make_appeal(category_hint="公安类/治安管理/噪音扰民投诉").category == categories["ORDER-NOISE"]
    assert make_appeal(category_hint="fraud").category == categories["FRAUD"]
    assert make_appeal(category_hint="城管执法").category is None


def test_it_flags_a_repeat_of_the_same_caller_about_the_same_matter(make_appeal, settings):
    phone = "13800005555"
    now = timezone.now()
    first = make_appeal(
        citizen_phone=phone, content="小区门口夜市烧烤噪音扰民,每天到凌晨两点", received_at=now - timedelta(days=3)
    )
    second = make_appeal(
        citizen_phone=phone, content="再次反映小区门口夜市烧烤噪音扰民,还是到凌晨两点", received_at=now
    )
    third = make_appeal(citizen_phone=phone, content="小区门口夜市烧烤噪音扰民问题依旧,凌晨两点", received_at=now)
    assert not first.is_repeat
    assert second.is_repeat and second.repeat_of == first and second.similarity >= settings.INTAKE_SIMILARITY_THRESHOLD
    assert third.repeat_of == first  # linked to the original, not to the previous repeat
    assert second.events.filter(action="repeat_detected").count() == 1


def test_it_does_not_flag_other_matters_other_callers_or_old_appeals(make_appeal, settings):
    phone = "13800006666"
    now = timezone.now()
    make_appeal(
        citizen_phone=phone, content="小区门口夜市烧烤噪音扰民,每天到凌晨两点", received_at=now - timedelta(days=40)
    )
    assert not make_appeal(
        citizen_phone=phone, content="小区门口夜市烧烤噪音扰民,每天到凌晨两点", received_at=now
    ).is_repeat
    assert not make_appeal(citizen_phone=phone, content="我的身份证丢了,怎么补办", received_at=now).is_repeat
    assert not make_appeal(citizen_phone="13800006667", content="小区门口夜市烧烤噪音扰民,每天到凌晨两点").is_repeat
    settings.INTAKE_REPEAT_WINDOW_DAYS = 60
    assert make_appeal(
        citizen_phone=phone, content="小区门口夜市烧烤噪音扰民,每天到凌晨两点多", received_at=now
    ).is_repeat
    settings.INTAKE_SIMILARITY_THRESHOLD = 0.99
    assert not make_appeal(citizen_phone=phone, content="小区门口夜市烧烤噪音扰民,凌晨三点", received_at=now).is_repeat


def test_it_moves_through_triage_dispatch_close_and_reopen_once_each(make_appeal, center, station, categories):
    appeal = make_appeal()
    for _ in range(2):
        services.triage_appeal(
            appeal, actor=center, kind=Kind.HELP, category=categories["ORDER-NOISE"], severity="yellow"
        )
    assert appeal.kind == Kind.HELP and appeal.severity_rank == 2
    for _ in range(2):
        services.mark_for_dispatch(appeal, actor=center)
    for _ in range(2):
        services.mark_dispatched(appeal, unit=station, actor=center)
    assert appeal.status == AppealStatus.DISPATCHED and appeal.unit == station
    for _ in range(2):
        services.close_appeal(appeal, actor=center, reply="已协调城管和派出所联合整治。")
    assert appeal.status == AppealStatus.CLOSED and appeal.closed_at and appeal.public_reply
    for _ in range(2):
        services.reopen_appeal(appeal, actor=center, reason="群众不满意")
    appeal.refresh_from_db()
    assert appeal.status == AppealStatus.DISPATCHED and appeal.closed_at is None
    actions = list(appeal.events.values_list("action", flat=True))
    assert actions == ["received", "triaged", "marked_for_dispatch", "dispatched", "closed", "reopened"]
    assert appeal.events.get(action="dispatched").actor == center


def test_it_refuses_moves_the_state_does_not_allow(make_appeal, center, station):
    appeal = make_appeal()
    with pytest.raises(Refused) as exc:
        services.reopen_appeal(appeal, actor=center, reason="x")
    assert "不能变更为" in str(exc.value)
    other = make_appeal(content="另一件事:身份证补办咨询")
    services.merge_appeal(appeal, into=other, actor=center)
    with pytest.raises(Refused):
        services.close_appeal(appeal, actor=center, reply="答复")
    with pytest.raises(Refused):
        services.triage_appeal(appeal, actor=center, severity="red")
    with pytest.raises(ValidationError):
        services.close_appeal(other, actor=center, reply=" ")


def test_it_merges_a_duplicate_into_its_original_once(make_appeal, center):
    original = make_appeal()
    duplicate = make_appeal(channel="12345", external_id="D-1")
    for _ in range(2):
        services.merge_appeal(duplicate, into=original, actor=center, note="同一事项")
    assert duplicate.status == AppealStatus.MERGED and duplicate.merged_into == original
    assert duplicate.events.filter(action="merged").count() == 1
    assert original.events.filter(action="merged_in").count() == 1
    with pytest.raises(Refused):
        services.merge_appeal(original, into=original, actor=center)
    third = make_appeal()
    with pytest.raises(Refused):
        services.merge_appeal(third, into=duplicate, actor=center)


def test_it_logs_every_phone_reveal_for_users_who_see_the_appeal(make_appeal, center, handler, station):
    appeal = make_appeal(citizen_phone="13800007777")
    assert services.reveal_phone(appeal, actor=center, reason="联系群众", ip="10.0.0.8") == "13800007777"
    assert appeal.phone_reveals.get().user == center
    with pytest.raises(PermissionError):
        services.reveal_phone(appeal, actor=handler, reason="联系群众")
    services.mark_dispatched(appeal, unit=station, actor=center)
    assert services.reveal_phone(appeal, actor=handler, reason="办理需要") == "13800007777"
    assert appeal.phone_reveals.count() == 2
    assert appeal.events.filter(action="phone_revealed").count() == 2


def test_it_sweeps_risk_alerts_whose_after_commit_call_was_lost(make_appeal, risk_words, center):
    appeal = make_appeal(content="我不想活了,没人管我")  # on_commit never runs inside this test's transaction
    key = f"intake-risk-{appeal.pk}"
    assert not Notification.objects.filter(dedupe_key=key).exists()
    from intake.tasks import sweep_risk_alerts_task

    assert sweep_risk_alerts_task.apply().get() == 1
    assert sweep_risk_alerts_task.apply().get() == 0
    assert Notification.objects.filter(dedupe_key=key, user=center).count() == 1
    services.close_appeal(make_appeal(content="报复社会"), actor=center, reply="已处理")
    assert services.sweep_risk_alerts() == 0  # closed ones are not alerted any more


def test_it_writes_what_triage_changed_into_the_timeline(make_appeal, center, categories):
    appeal = make_appeal()
    services.triage_appeal(
        appeal, actor=center, severity="red", category=categories["ORDER-NOISE"], note="夜间多次来电"
    )
    note = appeal.events.get(action="triaged").note
    assert "分级：蓝色 → 红色" in note and "分类：（无） → 治安管理 / 噪音扰民" in note and "夜间多次来电" in note


def test_it_draws_another_tracking_code_when_one_is_taken(make_appeal, monkeypatch):
    taken = make_appeal()
    # The model's default hands out a code already in use; the service draws a fresh one.
    monkeypatch.setattr(Appeal._meta.get_field("tracking_code"), "_get_default", lambda: taken.tracking_code)
    monkeypatch.setattr(services, "new_tracking_code", lambda: "ZZZZ2345")
    appeal = make_appeal(content="另一件诉求")
    assert appeal.tracking_code == "ZZZZ2345"
    assert Appeal.objects.get(pk=appeal.pk).events.filter(action="received").count() == 1


def test_it_sweeps_the_risk_alert_of_a_back_dated_appeal_by_its_arrival(make_appeal, risk_words, center):
    # An import or a push of an old item: the platform's date is ten days back, but it arrived now,
    # and the process died before its after-commit alert ran.
    appeal = make_appeal(
        channel="12345",
        external_id="GS-OLD-001",
        content="十天前的来件:他说要报复社会",
        received_at=timezone.now() - timedelta(days=10),
    )
    key = f"intake-risk-{appeal.pk}"
    assert not Notification.objects.filter(dedupe_key=key).exists()
    assert services.sweep_risk_alerts() == 1
    assert services.sweep_risk_alerts() == 0
    assert Notification.objects.filter(dedupe_key=key, user=center).count() == 1


def test_it_leaves_risk_appeals_that_arrived_long_ago_to_the_desk(make_appeal, risk_words, center):
    appeal = make_appeal(content="我不想活了,没人管我")
    Appeal.objects.filter(pk=appeal.pk).update(created_at=timezone.now() - timedelta(days=10))
    assert services.sweep_risk_alerts() == 0
