"""Hostile input at every public form, staff form, feed push and API write: never a 500.

Each string of ``tests.corpus`` (the Big List of Naughty Strings plus SQL/script/template/format
injections, bidi and zero-width characters) is sent to an entry point; the answer must be either
the value stored intact — read back from PostgreSQL and compared exactly with what the form or
serializer keeps (both trim surrounding whitespace, as documented) — or a refusal with a message
(a 4xx with a form error or a JSON field error, or an error message on the page the staff form
redirects to) and nothing stored. NUL is refused everywhere with a clear message except on the
service-record push, which removes it (docs/intake.md, "Hostile input"). Lone surrogates (JSON
``\\ud800``) are refused with 400; 1 MB bodies are refused by the field limits (or stored, where a
field has none), 25 MB bodies answer 413, and 1,000 levels of JSON nesting answer 400.

Every entry point takes a fixed, seeded sample (``corpus.sample``); the appeals API takes every
string of the corpus. Failures are collected and reported together, one line per string.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from urllib.parse import quote_from_bytes, urlencode

import pytest
from django.contrib.messages import get_messages
from django.core.cache import cache
from django.db import transaction
from django.test import Client
from rest_framework.test import APIClient

from intake.captcha import answer_for_tests
from intake.models import Appeal, AppealEvent
from intake.phones import phone_hash
from tests import corpus

pytestmark = pytest.mark.django_db

SAMPLE = 150
MB = 1024 * 1024
FEED_KEY = "abuse-12345-key"
RECORDS_KEY = "abuse-records-key"


@pytest.fixture(autouse=True)
def _no_limits_in_the_way(settings):
    """The rate limits are tested elsewhere; here they would only stop the corpus half way."""
    cache.clear()
    for name in (
        "INTAKE_MAILBOX_PER_PHONE_PER_DAY",
        "INTAKE_MAILBOX_PER_DEVICE_PER_DAY",
        "INTAKE_MAILBOX_PER_IP_PER_HOUR",
        "INTAKE_MAILBOX_PER_IP_PER_DAY",
        "INTAKE_TRACK_PER_DEVICE_PER_HOUR",
        "INTAKE_TRACK_PER_IP_PER_HOUR",
        "INTAKE_TRACK_FAILURES_PER_CODE",
        "INTAKE_CAPTCHA_FAILURES_PER_DEVICE_PER_HOUR",
        "INTAKE_CAPTCHA_FAILURES_PER_IP_PER_HOUR",
        "SURVEYS_QR_PER_DEVICE_PER_HOUR",
        "SURVEYS_QR_PER_PHONE_PER_DAY",
        "SURVEYS_QR_PER_POINT_PER_HOUR",
    ):
        setattr(settings, name, 100_000)
    yield
    cache.clear()


class Findings:
    """Collects what went wrong per string, so one run reports every failing string."""

    def __init__(self, where: str):
        self.where = where
        self.lines: list[str] = []
        self.stored = 0  # values read back intact: a run that refused everything proves little

    def add(self, value, problem: str) -> None:
        self.lines.append(f"{self.where} {value!r:.80}: {problem}")

    def call(self, value, fn: Callable):
        """Run one request in a savepoint; an exception (the 500 a user would get) is a finding."""
        try:
            with transaction.atomic():
                return fn()
        except Exception as exc:  # noqa: BLE001 - reported as the 500 it would be
            self.add(value, f"500 ({type(exc).__name__}: {str(exc)[:120]})")
            return None

    def read_back(self, value, got, want) -> None:
        """What the server accepted, read back: counted when it is what was sent (``want``), a
        finding otherwise."""
        if got != want:
            self.add(value, f"stored altered: {got!r:.200}")
        else:
            self.stored += 1

    def check(self, *, min_stored: int = 0) -> None:
        assert self.stored >= min_stored, f"{self.where}: only {self.stored} values stored intact"
        assert not self.lines, f"{len(self.lines)} problem(s):\n" + "\n".join(self.lines[:40])


def kept(value: str) -> str:
    """What a Django form field or a DRF CharField keeps of a value: surrounding whitespace trimmed."""
    return value.strip()


def page_error(response) -> bool:
    """A refused form page: 4xx and an error list (or a non-field error) in the HTML."""
    html = response.content.decode()
    shown = ("errorlist", 'class="error"', 'role="alert"')
    return 400 <= response.status_code < 500 and any(mark in html for mark in shown)


def message_error(response) -> bool:
    """A refused staff move: a redirect back with an error message."""
    return response.status_code == 302 and any(m.level_tag == "error" for m in get_messages(response.wsgi_request))


def move_refused(response) -> bool:
    """A refused work-order move: its form comes back bound with the error beside the field (422),
    or — for a state the order moved on from — a redirect back with an error message."""
    return page_error(response) or message_error(response)


def json_error(response) -> bool:
    if not 400 <= response.status_code < 500:
        return False
    try:
        body = response.json()
    except ValueError:
        return False
    return bool(body) and isinstance(body, dict | list)


# --- public forms ------------------------------------------------------------------------------


def _open_mailbox(client: Client) -> tuple[str, str]:
    page = client.get("/mailbox/mayor/").content.decode()
    token = re.search(r'name="captcha_token" value="([^"]+)"', page).group(1)
    return token, str(answer_for_tests(token))


def test_the_mailbox_stores_or_refuses_every_string(client, city):
    findings = Findings("mailbox")
    for i, value in enumerate(corpus.sample(SAMPLE)):
        token, answer = _open_mailbox(client)
        content = f"来信反映情况如下：{value}"
        data = {
            "citizen_name": value,
            "citizen_phone": f"1380000{i % 10000:04d}",
            "title": value,
            "content": content,
            "address": value,
            "captcha": answer,
            "captcha_token": token,
        }
        before = Appeal.objects.count()
        response = findings.call(value, lambda d=data: client.post("/mailbox/mayor/", d))
        if response is None:
            continue
        if response.status_code == 302:
            appeal = Appeal.objects.latest("id")
            got = (appeal.citizen_name, appeal.title, appeal.content, appeal.address)
            findings.read_back(value, got, (kept(value), kept(value), kept(content), kept(value)))
        elif not page_error(response) or Appeal.objects.count() != before:
            findings.add(value, f"neither stored nor refused with a message ({response.status_code})")
    findings.check(min_stored=SAMPLE // 3)


def test_the_mailbox_refuses_nul_bad_bytes_and_huge_bodies(client, city):
    findings = Findings("mailbox")
    for value in corpus.NUL_STRINGS:
        token, answer = _open_mailbox(client)
        data = {"citizen_name": "王秀兰", "citizen_phone": "13800002468", "title": value, "captcha": answer}
        data.update({"content": f"来信内容足够长{value}", "captcha_token": token, "address": value})
        response = findings.call(value, lambda d=data: client.post("/mailbox/mayor/", d))
        if response is not None and not page_error(response):
            findings.add(value, f"NUL not refused ({response.status_code})")
    # Percent-escaped bytes that are not UTF-8 are read with replacement characters: stored.
    for raw in corpus.INVALID_UTF8:
        token, answer = _open_mailbox(client)
        body = (
            urlencode({"citizen_name": "王", "citizen_phone": "13800002468", "captcha": answer, "captcha_token": token})
            + "&title=t&content="
            + "%E5%86%85" * 10
            + "&address="
            + quote_from_bytes(raw)
        )
        response = findings.call(
            raw, lambda b=body: client.post("/mailbox/mayor/", b, content_type="application/x-www-form-urlencoded")
        )
        if response is not None and response.status_code != 302:
            findings.add(raw, f"bad bytes not taken ({response.status_code})")
        elif response is not None and "\ufffd" not in Appeal.objects.latest("id").address:
            findings.add(raw, "bad bytes not replaced")
    token, answer = _open_mailbox(client)
    big = {"citizen_name": "王", "citizen_phone": "13800002468", "title": "长信", "content": "长" * MB}
    big.update(captcha=answer, captcha_token=token)
    response = findings.call("1 MB", lambda: client.post("/mailbox/mayor/", big))
    if response is not None and not (page_error(response) and "3000" in response.content.decode()):
        findings.add("1 MB", f"not refused with the limit ({response.status_code})")
    response = findings.call(
        "25 MB",
        lambda: client.post(
            "/mailbox/mayor/", b"content=" + b"a" * (25 * MB), content_type="application/x-www-form-urlencoded"
        ),
    )
    if response is not None and response.status_code not in (400, 413):
        findings.add("25 MB", f"answered {response.status_code}")
    findings.check()


def test_track_answers_every_string_without_a_500(client, city):
    findings = Findings("track")
    client.get("/track/")
    for value in [*corpus.sample(SAMPLE), *corpus.NUL_STRINGS]:
        for data in ({"code": value, "phone": "13800002468"}, {"code": "ABCDEFGH", "phone": value}):
            response = findings.call(value, lambda d=data: client.post("/track/", d))
            if response is None:
                continue
            html = response.content.decode()
            if not (page_error(response) or (response.status_code == 200 and "未找到" in html)):
                findings.add(value, f"neither refused nor 'not found' ({response.status_code})")
    findings.check()


@pytest.fixture
def rating_point(station, center):
    from surveys.services.qr_ratings import save_rating_point

    return save_rating_point(None, actor=center, unit=station, kind="window", name="户籍窗口")


def test_the_qr_form_stores_or_refuses_every_string(rating_point):
    from surveys import qr
    from surveys.models import Rating

    findings = Findings("qr")
    url = qr.rating_path(rating_point)
    browser = Client()
    browser.get(url)
    for value in [*corpus.sample(SAMPLE), *corpus.NUL_STRINGS]:
        before = list(Rating.objects.values_list("text", flat=True))
        response = findings.call(value, lambda v=value: browser.post(url, {"verdict": "satisfied", "text": v}))
        if response is None:
            continue
        if response.status_code == 302:
            # The same device within the fold window updates its one rating.
            stored = Rating.objects.get(rating_point=rating_point).text
            findings.read_back(value, stored, kept(value))
        elif not page_error(response) or list(Rating.objects.values_list("text", flat=True)) != before:
            findings.add(value, f"neither stored nor refused ({response.status_code})")
        phone = findings.call(value, lambda v=value: browser.post(url, {"verdict": "satisfied", "phone": v}))
        if phone is not None and phone.status_code != 302 and not page_error(phone):
            findings.add(value, f"phone field: {phone.status_code}")
    findings.check(min_stored=SAMPLE // 3)


@pytest.fixture
def invitation(center):
    from surveys.catalogue import seed_defaults
    from surveys.choices import SurveyStatus
    from surveys.models import Survey, SurveyInvitation
    from surveys.services.polls import create_survey

    seed_defaults()
    survey = create_survey(title="群众安全感调查", kind="public", actor=center)
    Survey.objects.filter(pk=survey.pk).update(status=SurveyStatus.OPEN)
    return SurveyInvitation.objects.create(
        survey=survey,
        phone="+8613800000001",
        phone_hash=phone_hash("+8613800000001"),
        token=uuid.uuid4().hex,
        source="records",
    )


def test_the_survey_form_stores_or_refuses_every_string(invitation):
    from surveys.choices import QuestionKind
    from surveys.models import SurveyResponse

    findings = Findings("survey")
    questions = list(invitation.survey.questions.order_by("position"))
    text_q = next(q for q in questions if q.kind == QuestionKind.TEXT)
    base = {str(q.pk): q.choices[0] for q in questions if q.kind != QuestionKind.TEXT}
    url = f"/s/{invitation.token}/"
    for value in [*corpus.sample(SAMPLE), *corpus.NUL_STRINGS]:
        data = {**base, str(text_q.pk): value}
        response = findings.call(value, lambda d=data: Client().post(url, d))
        if response is None:
            continue
        stored = SurveyResponse.objects.filter(invitation=invitation).values_list("answers", flat=True).first()
        if response.status_code == 200:
            findings.read_back(value, (stored or {}).get(str(text_q.pk), ""), kept(value))
        elif not page_error(response):
            findings.add(value, f"neither stored nor refused ({response.status_code})")
    findings.check(min_stored=SAMPLE // 3)


# --- feed pushes -------------------------------------------------------------------------------


@pytest.fixture
def feed_sources(db):
    from feeds.choices import FeedKind
    from feeds.models import FeedSource

    appeals = FeedSource(code="12345", name="12345平台", kind=FeedKind.APPEALS, channel="12345")
    appeals.set_key(FEED_KEY)
    appeals.save()
    records = FeedSource(code="service-records", name="业务系统", kind=FeedKind.SERVICE_RECORDS)
    records.set_key(RECORDS_KEY)
    records.save()


def _push(url: str, body: bytes, key: str, content_type: str = "application/json"):
    return APIClient().post(url, data=body, content_type=content_type, HTTP_AUTHORIZATION=f"Bearer {key}")


def _json(data) -> bytes:
    return json.dumps(data, ensure_ascii=False).encode()


def _escaped(data) -> bytes:
    """JSON with every non-ASCII character escaped: the only way to send lone surrogates."""
    return json.dumps(data, ensure_ascii=True).encode()


APPEAL_PUSH = "/api/v1/feeds/12345/appeals/"
RECORD_PUSH = "/api/v1/feeds/service-records/"


def test_the_appeal_push_stores_or_refuses_every_string(city, feed_sources):
    findings = Findings("feed push")
    for i, value in enumerate([*corpus.sample(SAMPLE), *corpus.NUL_STRINGS, *corpus.LONE_SURROGATES]):
        data = {
            "external_id": f"AB-{i}-{value}",
            "received_at": "2026-11-20T09:30:00+08:00",
            "citizen_name": value,
            "citizen_phone": "13800001234",
            "content": f"诉求：{value}",
            "address": value,
            "category_hint": value,
        }
        response = findings.call(value, lambda d=data: _push(APPEAL_PUSH, _escaped(d), FEED_KEY))
        if response is None:
            continue
        if response.status_code == 201:
            appeal = Appeal.objects.get(pk=response.json()["id"])
            got = (appeal.external_id, appeal.citizen_name, appeal.content, appeal.address, appeal.category_hint)
            want = tuple(kept(data[k]) for k in ("external_id", "citizen_name", "content", "address", "category_hint"))
            findings.read_back(value, got, want)
        elif not json_error(response):
            findings.add(value, f"neither stored nor refused ({response.status_code})")
    findings.check(min_stored=SAMPLE // 3)


def test_the_service_record_push_stores_or_rejects_every_string(city, feed_sources, station):
    from surveys.catalogue import seed_defaults
    from surveys.models import ServiceRecord

    seed_defaults()
    findings = Findings("record push")
    row = {"business_type": "110", "served_at": "2026-11-20T09:30:00+08:00", "unit_code": station.code}
    row["citizen_phone"] = "13800001234"
    values = corpus.sample(SAMPLE)
    rows = [{**row, "external_id": f"R{i}-{v}", "officer_code": v} for i, v in enumerate(values)]
    response = findings.call("batch", lambda: _push(RECORD_PUSH, _json(rows), RECORDS_KEY))
    if response is not None:
        assert response.status_code == 200, response.content
        rejected = {r["index"]: r["reason"] for r in response.json()["errors"]}
        for i, value in enumerate(values):
            stored = ServiceRecord.objects.filter(external_id=kept(f"R{i}-{value}")).first()
            if i in rejected:
                if not rejected[i] or stored:
                    findings.add(value, "rejected without a reason, or stored anyway")
            elif stored is None:
                findings.add(value, "neither stored nor rejected")
            elif stored.officer_code != kept(value)[:20]:
                findings.add(value, f"officer code altered: {stored.officer_code!r}")
            else:
                findings.stored += 1
    # NUL is removed (documented); lone surrogates are refused, never a 500.
    for i, value in enumerate([*corpus.NUL_STRINGS, *corpus.LONE_SURROGATES]):
        body = _escaped([{**row, "external_id": f"Z{i}{value}", "officer_code": value}])
        response = findings.call(value, lambda b=body: _push(RECORD_PUSH, b, RECORDS_KEY))
        if response is None:
            continue
        if "\x00" in value:
            if (
                response.status_code != 200
                or not ServiceRecord.objects.filter(external_id=f"Z{i}{value}".replace("\x00", "")).exists()
            ):
                findings.add(value, f"NUL not removed ({response.status_code}, {response.content[:120]!r})")
        elif not json_error(response) and not (response.status_code == 200 and response.json()["errors"]):
            findings.add(value, f"surrogate not refused ({response.status_code})")
    findings.check(min_stored=SAMPLE // 3)


@pytest.mark.parametrize(
    ("url", "key"),
    [(APPEAL_PUSH, FEED_KEY), (RECORD_PUSH, RECORDS_KEY)],
)
def test_the_pushes_refuse_huge_and_deep_bodies(city, feed_sources, url, key):
    findings = Findings(url)
    one_mb = {"external_id": "BIG-1", "content": "长" * (MB // 3), "received_at": "2026-11-20T09:30:00+08:00"}
    body = _json(one_mb if "appeals" in url else [one_mb])
    checks = [
        (
            "1 MB",
            body,
            lambda r: (r.status_code == 400 and json_error(r)) or (r.status_code == 200 and r.json()["errors"]),
        ),
        ("25 MB", b'{"content": "' + b"a" * (25 * MB) + b'"}', lambda r: r.status_code == 413),
        ("deep", corpus.deep_json(1000), lambda r: r.status_code == 400 and "嵌套" in r.json()["detail"]),
        ("not JSON", b"\xff\xfe{", lambda r: r.status_code == 400),
    ]
    for name, raw, ok in checks:
        response = findings.call(name, lambda b=raw: _push(url, b, key))
        if response is not None and not ok(response):
            findings.add(name, f"answered {response.status_code}: {response.content[:120]!r}")
    assert Appeal.objects.count() == 0
    findings.check()


# --- staff forms -------------------------------------------------------------------------------


def test_the_hotline_form_stores_or_refuses_every_string(client, center):
    client.force_login(center)
    findings = Findings("hotline")
    for i, value in enumerate([*corpus.sample(SAMPLE), *corpus.NUL_STRINGS]):
        data = {
            "channel": "hotline",
            "citizen_phone": f"1380001{i % 10000:04d}",
            "citizen_name": value,
            "kind": "complaint",
            "address": value,
            "title": value,
            "content": value,
        }
        before = Appeal.objects.count()
        response = findings.call(value, lambda d=data: client.post("/appeals/hotline/", d))
        if response is None:
            continue
        if response.status_code == 302:
            appeal = Appeal.objects.latest("id")
            got = (appeal.citizen_name, appeal.address, appeal.title, appeal.content)
            findings.read_back(value, got, (kept(value),) * 4)
        elif not page_error(response) or Appeal.objects.count() != before:
            findings.add(value, f"neither stored nor refused ({response.status_code})")
    for name, body in (("1 MB", {"content": "长" * MB}), ("25 MB", {"content": "a" * (25 * MB)})):
        response = findings.call(name, lambda b=body: client.post("/appeals/hotline/", {**data, **b}))
        if response is not None and response.status_code not in (400, 413):
            findings.add(name, f"answered {response.status_code}")
    findings.check(min_stored=SAMPLE // 3)


def test_triage_notes_are_stored_or_refused(client, center, city):
    from intake.services import create_appeal

    client.force_login(center)
    appeal, _ = create_appeal(channel="hotline", content="夜市噪音扰民", citizen_phone="13800001234")
    findings = Findings("triage")
    for i, value in enumerate([*corpus.sample(SAMPLE), *corpus.NUL_STRINGS]):
        # Alternate the severity, so every triage changes something and writes its event.
        data = {"kind": "complaint", "severity": ("yellow", "blue")[i % 2], "note": value}
        response = findings.call(value, lambda d=data: client.post(f"/appeals/{appeal.pk}/triage/", d))
        if response is None:
            continue
        last = AppealEvent.objects.filter(appeal=appeal, action="triaged").order_by("-id").first()
        if message_error(response):
            continue
        if last is None or not (last.note.endswith("\n" + kept(value)) or not kept(value)):
            findings.add(value, f"note altered: {getattr(last, 'note', None)!r:.120}")
        else:
            findings.stored += 1
    findings.check(min_stored=SAMPLE // 3)


@pytest.fixture
def order(center, station, city):
    from intake.services import create_appeal
    from workorders.services import dispatch_appeal, sign_for, start

    appeal, _ = create_appeal(channel="hotline", content="夜市噪音扰民，每晚到凌晨", citizen_phone="13800001234")
    order = dispatch_appeal(appeal, unit=station, actor=center)
    from units.models import User

    handler = User.objects.get(username="handler")
    sign_for(order, actor=handler)
    start(order, actor=handler)
    return order


def test_work_order_feedback_and_return_store_or_refuse_every_string(client, center, handler, order):
    from workorders.models import WorkOrder

    staff, unit = Client(), Client()
    staff.force_login(center)
    unit.force_login(handler)
    findings = Findings("work order")
    base = {"result": "resolved", "contact_method": "phone"}
    url = f"/workorders/{order.pk}/"
    for value in [*corpus.sample(SAMPLE), *corpus.NUL_STRINGS]:
        response = findings.call(value, lambda v=value: unit.post(url + "submit-feedback/", {**base, "text": v}))
        if response is None:
            continue
        current = WorkOrder.objects.get(pk=order.pk)
        if move_refused(response):
            if current.status == "feedback_submitted" and current.feedback_text == kept(value):
                findings.add(value, "refused but stored")
            continue
        if current.feedback_text != kept(value) or current.status != "feedback_submitted":
            findings.add(value, f"feedback altered: {current.feedback_text!r:.120}")
            continue
        # Back for rework with the same string as the reason (then the next feedback can go in).
        response = findings.call(value, lambda v=value: staff.post(url + "return/", {"reason": v}))
        if response is None:
            continue
        if move_refused(response):
            staff.post(url + "return/", {"reason": "请补充材料"})
            continue
        event = current.events.order_by("-id").first()
        if event.note != kept(value):
            findings.add(value, f"return reason altered: {event.note!r:.120}")
        else:
            findings.stored += 1
    response = findings.call(
        "1 MB", lambda: unit.post(f"/workorders/{order.pk}/submit-feedback/", {**base, "text": "长" * MB})
    )
    if response is not None and response.status_code not in (302, 400, 413):
        findings.add("1 MB", f"answered {response.status_code}")
    findings.check(min_stored=SAMPLE // 3)


@pytest.fixture
def callback(station):
    import datetime as dt

    from django.utils import timezone

    from surveys.models import Callback, Rating

    rating = Rating.objects.create(
        verdict="dissatisfied", unit=station, phone="+8613800001234", phone_hash=phone_hash("+8613800001234")
    )
    return Callback.objects.create(rating=rating, unit=station, due_at=timezone.now() + dt.timedelta(days=1))


def _shows_errors(html: str) -> bool:
    """Django's error list, or the kept-input forms' own error lines beside the fields."""
    return "errorlist" in html or 'data-testid="form-error"' in html


def test_callback_records_store_or_refuse_every_string(client, center, callback):
    from surveys.models import Callback, CallbackAttempt

    client.force_login(center)
    findings = Findings("callback")
    url = f"/surveys/callbacks/{callback.pk}/"
    for value in [*corpus.sample(SAMPLE), *corpus.NUL_STRINGS]:
        data = {"action": "call", "outcome": "reached", "reason": value, "note": value}
        attempts = CallbackAttempt.objects.count()
        response = findings.call(value, lambda d=data: client.post(url, d))
        if response is None:
            continue
        if response.status_code == 302:
            reason = Callback.objects.get(pk=callback.pk).reason
            note = CallbackAttempt.objects.latest("id").note
            findings.read_back(value, (reason, note), (kept(value), kept(value)))
        # A refused record comes back in place with its errors and the text kept (422).
        elif not (response.status_code in (200, 400, 422) and _shows_errors(response.content.decode())):
            findings.add(value, f"neither stored nor refused ({response.status_code})")
        elif CallbackAttempt.objects.count() != attempts:
            findings.add(value, "refused but stored")
    findings.check(min_stored=SAMPLE // 3)


# --- API writes --------------------------------------------------------------------------------


def test_the_appeals_api_stores_or_refuses_every_string_and_closes_with_it(api, center):
    """The one entry point that takes the whole corpus: create, then triage and close with it."""
    client = api.as_user(center)
    findings = Findings("api")
    strings = [*corpus.everything(), *corpus.NUL_STRINGS, *corpus.LONE_SURROGATES]
    for i, value in enumerate(strings):
        data = {"channel": "hotline", "content": value, "title": value, "citizen_name": value, "address": value}
        data["citizen_phone"] = f"1380002{i % 10000:04d}"
        response = findings.call(
            value, lambda d=data: client.post("/api/v1/appeals/", _escaped(d), content_type="application/json")
        )
        if response is None:
            continue
        if response.status_code != 201:
            if not json_error(response):
                findings.add(value, f"neither stored nor refused ({response.status_code})")
            continue
        appeal = Appeal.objects.get(pk=response.json()["id"])
        got = (appeal.content, appeal.title, appeal.citizen_name, appeal.address)
        findings.read_back(value, got, (kept(value),) * 4)
        if i % 3:
            continue  # a third of them go on through triage and close
        base = f"/api/v1/appeals/{appeal.pk}/"
        triage = findings.call(
            value,
            lambda b=base, v=value: client.post(
                b + "triage/", _escaped({"severity": "blue", "note": v}), content_type="application/json"
            ),
        )
        if triage is not None and triage.status_code not in (200, 400):
            findings.add(value, f"triage answered {triage.status_code}")
        close = findings.call(
            value,
            lambda b=base, v=value: client.post(
                b + "close/", _escaped({"reply": v, "note": v}), content_type="application/json"
            ),
        )
        if close is None:
            continue
        appeal.refresh_from_db()
        if close.status_code == 200 and appeal.public_reply != kept(value):
            findings.add(value, f"reply altered: {appeal.public_reply!r:.120}")
        elif close.status_code != 200 and not json_error(close):
            findings.add(value, f"close answered {close.status_code}")
    findings.check(min_stored=len(strings) * 3 // 4)


def test_the_appeal_api_refuses_huge_and_deep_bodies(api, center):
    client = api.as_user(center)
    findings = Findings("api")
    for name, raw, want in (
        ("1 MB", _json({"channel": "hotline", "content": "长" * (MB // 3)}), 400),
        ("25 MB", b'{"content": "' + b"a" * (25 * MB) + b'"}', 413),
        ("deep", corpus.deep_json(1000), 400),
    ):
        response = findings.call(
            name, lambda b=raw: client.post("/api/v1/appeals/", b, content_type="application/json")
        )
        if response is not None and (response.status_code != want or not json_error(response)):
            findings.add(name, f"answered {response.status_code}")
    assert Appeal.objects.count() == 0
    findings.check()


def test_rating_points_api_stores_or_refuses_every_string(api, center, station):
    from surveys.models import RatingPoint

    client = api.as_user(center)
    findings = Findings("rating points")
    for i, value in enumerate([*corpus.sample(SAMPLE), *corpus.NUL_STRINGS, *corpus.LONE_SURROGATES]):
        data = {"unit": station.pk, "kind": "badge", "name": f"{i}{value}", "officer_code": value}
        response = findings.call(
            value, lambda d=data: client.post("/api/v1/rating-points/", _escaped(d), content_type="application/json")
        )
        if response is None:
            continue
        if response.status_code == 201:
            point = RatingPoint.objects.get(pk=response.json()["id"])
            findings.read_back(value, (point.name, point.officer_code), (kept(data["name"]), kept(value)))
        elif not json_error(response):
            findings.add(value, f"neither stored nor refused ({response.status_code})")
    findings.check(min_stored=SAMPLE // 3)
