"""The write path at province scale: a feed push and a staff create run a small, fixed number of
statements (what does not change per request — the source of a key, the step-notice switches, the
SMS templates, the categories, the risk words — is kept per process, and a change to it is seen at
once by the process that made it and within seconds by every other one), and the shipped
per-source throttle answers 429 with Retry-After."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from feeds.models import FeedSource
from intake.choices import Channel
from intake.models import Appeal, Category, RiskWord
from intake.services import create_appeal
from sms.choices import NoticeStep, SmsPurpose
from sms.models import OutboundSms, SmsTemplate, StepNotice
from sms.services import step_notice_on
from units import memo

from .conftest import KEYS
from .test_push import payload, push

# The external-id check, the caller's repeat candidates, the insert, its event, and the day marks
# of the two apps that keep figures from appeals (analytics' aggregates, the surge baseline's
# counted days: the payload's day is over). The source of the key, its category, the risk words and
# the channel's step-notice switch (off for 12345: no SMS) are kept per process (units.memo).
PUSH_STATEMENTS = 6
KEPT = ("feeds_feedsource", "intake_category", "intake_riskword", "sms_stepnotice", "sms_smstemplate")


def _push_statements(n: int, phone: str = "", **fields) -> CaptureQueriesContext:
    with CaptureQueriesContext(connection) as ctx:
        response = push(
            "12345",
            payload(
                external_id=f"SX-WP-{n}", citizen_phone=phone or f"1380000{n:04d}", category_hint="噪音扰民", **fields
            ),
            key=KEYS["12345"],
        )
    assert response.status_code == 201, response.content
    return ctx


def _statements(ctx: CaptureQueriesContext) -> list[str]:
    # Transaction control (SAVEPOINT/RELEASE in a test, BEGIN/COMMIT in production) aside.
    return [q["sql"] for q in ctx.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]


def test_a_feed_push_runs_a_bounded_number_of_statements(sources, city):
    RiskWord.objects.create(word="跳楼")
    RiskWord.objects.create(word="自焚")
    Category.objects.create(code="noise", name="噪音扰民")
    memo.clear_all()  # as if committed before this process read anything
    _push_statements(0)  # the first push of a process reads what it keeps
    ctx = _push_statements(1)
    statements = _statements(ctx)
    assert len(statements) == PUSH_STATEMENTS, "\n".join(statements)
    assert not [s for s in statements if any(table in s for table in KEPT)], statements
    assert Appeal.objects.get(external_id="SX-WP-1").category.code == "noise"

    # The same caller again, about the same matter, with a risk word: three timeline rows, written
    # in the one statement, and the original of the chain read with the candidates.
    text = payload()["content"]
    _push_statements(2, phone="13800000001", content=text + "再不管我就跳楼")
    ctx = _push_statements(3, phone="13800000001", content=text + "再不管我就跳楼！")
    statements = _statements(ctx)
    assert len(statements) == PUSH_STATEMENTS, "\n".join(statements)
    third = Appeal.objects.get(external_id="SX-WP-3")
    assert third.repeat_of == Appeal.objects.get(external_id="SX-WP-1")  # the first of the chain
    assert third.risk_words == "跳楼"
    assert [e.action for e in third.events.order_by("created_at", "id")] == [
        "received",
        "repeat_detected",
        "risk_alert",
    ]


# force_authenticate: the token look-up of a real request is one more. The caller's repeat
# candidates, the insert, its event, analytics' day mark; a hotline appeal also queues its receipt
# SMS: the opt-out list and the insert (its switch and template are kept per process; its
# duplicate key names the appeal just inserted, so it is not looked up first).
STAFF_STATEMENTS = 6


def test_a_staff_create_runs_a_bounded_number_of_statements(api, center, city):
    RiskWord.objects.create(word="跳楼")
    StepNotice.objects.update_or_create(channel=Channel.HOTLINE, defaults={"receipt": True})
    memo.clear_all()
    client = api.as_user(center)
    body = {"channel": "hotline", "content": "小区门口路灯不亮，晚上出行不便。", "citizen_phone": "13800005678"}
    assert client.post("/api/v1/appeals/", body, format="json").status_code == 201
    with CaptureQueriesContext(connection) as ctx:
        body["citizen_phone"] = "13800005679"
        response = client.post("/api/v1/appeals/", body, format="json")
    assert response.status_code == 201, response.content
    statements = _statements(ctx)
    assert len(statements) == STAFF_STATEMENTS, "\n".join(s[:160] for s in statements)
    assert not [s for s in statements if any(table in s for table in KEPT)], statements
    assert [s for s in statements if s.startswith('INSERT INTO "sms_outboundsms"')]  # the receipt SMS
    # Answered from the row in memory, as it would be read back.
    appeal = Appeal.objects.get(pk=response.json()["id"])
    assert response.json()["tracking_code"] == appeal.tracking_code
    assert response.json()["citizen_phone_masked"] == appeal.masked_phone
    assert response.json()["status"] == appeal.status and response.json()["unit"] is None


def test_the_shipped_feed_throttle_carries_a_province_peak_and_answers_429_with_retry_after(sources, city, settings):
    from rest_framework.settings import api_settings

    shipped = api_settings.DEFAULT_THROTTLE_RATES["feed"]
    count, period = shipped.split("/")
    per_minute = int(count) * {"s": 60, "m": 1, "h": 1 / 60}[period[0]]
    # A province: ~17,000 appeals a day, all of them possibly through one platform, peaks ×10.
    assert per_minute >= 17_000 * 10 / (24 * 60)
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"anon": "60/min", "feed": "2/min"}}
    assert push("12345", payload(external_id="SX-T-1"), key=KEYS["12345"]).status_code == 201
    assert push("12345", payload(external_id="SX-T-2"), key=KEYS["12345"]).status_code == 201
    refused = push("12345", payload(external_id="SX-T-3"), key=KEYS["12345"])
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 60
    # Per source: another platform is not refused because 12345 is busy.
    assert push("12389", payload(external_id="SX-T-4"), key=KEYS["12389"]).status_code == 201


def test_the_feed_throttle_keeps_one_number_per_source_at_any_rate(settings):
    """The rate's count at once, then one request per period/count; the key holds one number, so
    a request costs the same however busy the source is (DRF's list of request times grows)."""
    import uuid

    from django.core.cache import cache

    from units.cache import soft_cache

    key = f"test-take-{uuid.uuid4().hex}"
    assert [soft_cache.take(key, limit=3, period=60) for _ in range(3)] == [0, 0, 0]
    wait = soft_cache.take(key, limit=3, period=60)
    assert 19 < wait <= 20
    assert isinstance(cache.get(key), int)
    # Refused requests are not counted: the wait does not grow while a platform keeps retrying.
    assert soft_cache.take(key, limit=3, period=60) <= wait


def test_the_feed_throttle_builds_one_redis_client_per_process_not_one_per_push(monkeypatch):
    """Django's RedisCache makes a new client object for every call; the throttle keeps one per
    connection pool (the pool, and the connections in it, are Django's)."""
    import uuid

    from django.core.cache import cache

    from units import cache as soft

    backend = cache._cache
    built = []
    make = backend._client
    monkeypatch.setattr(backend, "_client", lambda **kwargs: built.append(kwargs) or make(**kwargs))
    monkeypatch.setattr(soft, "_clients", {})
    key = f"test-take-{uuid.uuid4().hex}"
    assert [soft.soft_cache.take(key, limit=5, period=60) for _ in range(5)] == [0] * 5
    assert soft.soft_cache.take(key, limit=5, period=60) > 0  # the same script, still counting
    assert len(built) == 1
    assert built[0]["connection_pool"] is backend._get_connection_pool(True)


# --- What is kept per process, and how a change reaches every process ------------------------------


def _later(monkeypatch) -> None:
    """This process's clock, moved past the age at which what it keeps is read again."""
    later = memo._clock() + memo.MAX_AGE_SECONDS + 0.1
    monkeypatch.setattr(memo, "_clock", lambda: later)


def _hotline(phone: str) -> Appeal:
    appeal, created = create_appeal(
        channel=Channel.HOTLINE, content="小区门口路灯不亮，晚上出行不便。", citizen_phone=phone
    )
    assert created
    return appeal


def _receipt_of(appeal: Appeal) -> OutboundSms | None:
    return OutboundSms.objects.filter(dedupe_key=f"appeal-received:{appeal.pk}").first()


@pytest.mark.django_db(transaction=True)
def test_a_step_switch_takes_effect_at_once_where_it_was_saved_and_within_seconds_everywhere(city, monkeypatch):
    assert memo.MAX_AGE_SECONDS <= 10  # "within seconds" for every web and Celery worker
    notice, _ = StepNotice.objects.get_or_create(channel=Channel.HOTLINE)
    notice.receipt = False
    notice.save()
    assert not step_notice_on(Channel.HOTLINE, NoticeStep.RECEIPT)
    assert _receipt_of(_hotline("13800007001")) is None

    notice.receipt = True  # saved in this process (the admin's form): the next appeal sees it
    notice.save()
    sms = _receipt_of(_hotline("13800007002"))
    assert sms is not None and sms.purpose == SmsPurpose.APPEAL_RECEIVED

    # Switched off by another process: its signals fire there, never here.
    StepNotice.objects.filter(channel=Channel.HOTLINE).update(receipt=False)
    assert step_notice_on(Channel.HOTLINE, NoticeStep.RECEIPT)  # what this process read, for now
    _later(monkeypatch)
    assert not step_notice_on(Channel.HOTLINE, NoticeStep.RECEIPT)
    assert _receipt_of(_hotline("13800007003")) is None


@pytest.mark.django_db(transaction=True)
def test_a_switch_saved_in_a_transaction_that_rolls_back_is_not_kept(city):
    notice, _ = StepNotice.objects.get_or_create(channel=Channel.HOTLINE)
    notice.closure = True
    notice.save()
    assert step_notice_on(Channel.HOTLINE, NoticeStep.CLOSURE)
    with pytest.raises(RuntimeError), transaction.atomic():
        notice.closure = False
        notice.save()
        assert not step_notice_on(Channel.HOTLINE, NoticeStep.CLOSURE)  # its own change, in it
        raise RuntimeError("rolled back")
    assert step_notice_on(Channel.HOTLINE, NoticeStep.CLOSURE)  # a rollback sends no signal


@pytest.mark.django_db(transaction=True)
def test_an_edited_template_is_used_by_the_next_sms(city, monkeypatch):
    StepNotice.objects.update_or_create(channel=Channel.HOTLINE, defaults={"receipt": True})
    assert "查询码" in _receipt_of(_hotline("13800007011")).text
    template, _ = SmsTemplate.objects.get_or_create(code="appeal_received", defaults={"name": "受理"})
    template.text = "您反映的问题已登记，编号{code}，进度请看{link}"
    template.save()
    assert _receipt_of(_hotline("13800007012")).text.startswith("您反映的问题已登记，编号")
    SmsTemplate.objects.filter(pk=template.pk).update(text="已受理：{code}，{link}")  # another process
    _later(monkeypatch)
    assert _receipt_of(_hotline("13800007013")).text.startswith("已受理：")


@pytest.mark.django_db(transaction=True)
def test_a_source_switched_off_or_given_a_new_key_stops_pushing_at_once(sources, city, monkeypatch):
    assert push("12345", payload(external_id="SX-K-1"), key=KEYS["12345"]).status_code == 201
    source = FeedSource.objects.get(code="12345")
    source.set_key("a-brand-new-12345-key")
    source.save()
    assert push("12345", payload(external_id="SX-K-2"), key=KEYS["12345"]).status_code == 401
    assert push("12345", payload(external_id="SX-K-3"), key="a-brand-new-12345-key").status_code == 201
    # Switched off by another process: refused here within seconds.
    FeedSource.objects.filter(pk=source.pk).update(is_active=False)
    _later(monkeypatch)
    assert push("12345", payload(external_id="SX-K-4"), key="a-brand-new-12345-key").status_code == 401


@pytest.mark.django_db(transaction=True)
def test_a_category_added_is_matched_by_the_next_push(sources, city):
    assert (
        push("12345", payload(external_id="SX-C-1", category_hint="共享单车乱停放"), key=KEYS["12345"]).status_code
        == 201
    )
    assert Appeal.objects.get(external_id="SX-C-1").category is None
    Category.objects.create(code="bikes", name="共享单车乱停放")
    assert (
        push("12345", payload(external_id="SX-C-2", category_hint="共享单车乱停放"), key=KEYS["12345"]).status_code
        == 201
    )
    assert Appeal.objects.get(external_id="SX-C-2").category.code == "bikes"
