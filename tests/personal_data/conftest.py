"""One end-to-end flow that puts a known phone into every place a citizen's number can go.

``flow`` drives the product through its own doors — the hotline form, the appeals API, dispatch
and close of a work order (with its close-notice SMS and the 12345 result), a pushed service
record, the evaluation run and its SMS, an inbound "3" reply and the callback it opens, an
opt-out, a QR rating with a phone, a survey sample — and records, while it runs, every log record
(unmasked, as code emitted it) and every task message (published or run eagerly).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

import pytest
from celery.signals import before_task_publish, task_prerun
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from opinion_center.celery import app as celery_app
from tests.sms.conftest import always_open, catalogue  # noqa: F401 - fixtures used here

# Obviously fake numbers, one per place they enter the product.
PHONES = {
    "hotline": "13800007001",
    "api": "13800007002",
    "record": "13800007003",
    "optout": "13800007004",
    "qr": "13800007005",
    "survey": "13800007006",
    "feed": "13800007007",
}
# An obviously fake ID-card number written into the appeal text.
ID_CARD = "11010519491231002X"
MASKED_ID_CARD = "110105********002X"


def forms_of(national: str) -> list[str]:
    """Every way a number can be spelt: 13800007001, +8613800007001, 8613800007001."""
    return [national, "+86" + national, "86" + national]


def leaks(text: str, phones=None) -> list[str]:
    """The full numbers (any form) found in ``text``."""
    return [form for national in phones or PHONES.values() for form in forms_of(national) if form in text]


@pytest.fixture(autouse=True)
def _clean_cache():
    # Rate-limit counters (QR form, mailbox) live in this test run's Redis db.
    cache.clear()
    yield
    cache.clear()


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        # The message as the code emitted it (before any handler's mask) with its traceback.
        self.lines.append(self.format(record))


@dataclass
class Flow:
    appeals: dict[str, Any] = field(default_factory=dict)
    order: Any = None
    callback: Any = None
    record: Any = None
    rating: Any = None
    survey: Any = None
    log_lines: list[str] = field(default_factory=list)
    tasks: list[str] = field(default_factory=list)


@pytest.fixture
def capture():
    """Collect log records (root at DEBUG) and task messages while the block runs."""
    handler = _Collect()
    root = logging.getLogger()
    previous_level = root.level
    # First among the root's handlers, and every record also as it is created: the project's
    # handlers mask records in place, and a leak must be seen before that safety net hides it.
    root.handlers.insert(0, handler)
    root.setLevel(logging.DEBUG)
    make_record = logging.getLogRecordFactory()
    traceback_formatter = logging.Formatter()

    def recording_factory(*args, **kwargs):
        record = make_record(*args, **kwargs)
        try:
            text = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken record is logging's own error to report
            text = str(record.msg)
        if record.exc_info:
            text += "\n" + traceback_formatter.formatException(record.exc_info)
        handler.lines.append(f"{record.name} {record.levelname} {text}")
        return record

    logging.setLogRecordFactory(recording_factory)
    tasks: list[str] = []

    def on_publish(sender=None, body=None, headers=None, **kwargs):
        tasks.append(f"publish {sender} {body!r} {headers!r}")

    def on_prerun(sender=None, task_id=None, task=None, args=None, kwargs=None, **extra):
        tasks.append(f"run {getattr(task, 'name', sender)} {args!r} {kwargs!r}")

    before_task_publish.connect(on_publish, weak=False)
    task_prerun.connect(on_prerun, weak=False)
    eager = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    try:
        yield handler.lines, tasks
    finally:
        celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = eager
        before_task_publish.disconnect(on_publish)
        task_prerun.disconnect(on_prerun)
        logging.setLogRecordFactory(make_record)
        root.removeHandler(handler)
        root.setLevel(previous_level)


@pytest.fixture
def flow(
    request, client, api, center, handler, administrator, station, capture, django_capture_on_commit_callbacks
) -> Flow:
    from feeds.models import FeedSource
    from intake import demo as intake_demo
    from intake import services as intake_services
    from intake.models import Appeal
    from sms.inbound import receive_inbound
    from sms.models import OutboundSms
    from sms.outbox import send_one
    from sms.services import opt_out
    from surveys.models import Callback, Rating
    from surveys.services.callbacks import record_call
    from surveys.services.polls import create_survey, sample_from_list
    from surveys.services.qr_ratings import save_rating_point, submit_qr_rating
    from surveys.services.records import run_evaluation, take_in_service_records
    from workorders import services as workorders

    request.getfixturevalue("always_open")
    lines, tasks = capture
    intake_demo.load_categories()
    FeedSource.objects.create(
        code="12345", name="12345政务服务热线", kind="appeals", channel="12345", result_url="http://127.0.0.1:9/results"
    )
    result = Flow(log_lines=lines, tasks=tasks)
    with django_capture_on_commit_callbacks(execute=True):
        # 1. the hotline form, an ID-card number in the text
        client.force_login(center)
        response = client.post(
            reverse("intake:hotline"),
            {
                "channel": "hotline",
                "citizen_phone": PHONES["hotline"],
                "citizen_name": "测试甲",
                "kind": "complaint",
                "content": f"我的身份证{ID_CARD}被人冒用办了银行卡,请派出所调查",
                "next": "appeal",
            },
        )
        assert response.status_code == 302, response.content.decode()[:500]
        result.appeals["hotline"] = Appeal.objects.get(channel="hotline")
        # 2. the appeals API
        created = api.as_user(center).post(
            "/api/v1/appeals/",
            {
                "channel": "12389",
                "external_id": "PD-1",
                "content": "反映民警执法态度粗暴",
                "citizen_phone": PHONES["api"],
            },
            format="json",
        )
        assert created.status_code == 201, created.content
        result.appeals["api"] = Appeal.objects.get(pk=created.json()["id"])
        # 3. a 12345 appeal (its result goes back to the platform)
        result.appeals["feed"], _ = intake_services.create_appeal(
            channel="12345", external_id="SZ-PD-1", content="小区门口违停严重", citizen_phone=PHONES["feed"]
        )
        # 4. dispatch and close: a close-notice SMS and a 12345 result delivery
        for key in ("hotline", "feed"):
            order = workorders.dispatch_appeal(result.appeals[key], unit=station, actor=center)
            workorders.sign_for(order, actor=handler)
            workorders.submit_feedback(order, actor=handler, text="已处理", result="resolved", contact_method="phone")
            workorders.approve(order, actor=center)
            workorders.close(order, actor=center, reply="已处理完毕，感谢监督。")
            if key == "hotline":
                result.order = order
        # 5. a pushed service record, the evaluation run, the citizen's "3" and the callback
        outcome = take_in_service_records(
            rows=[
                (
                    0,
                    {
                        "external_id": "PD-REC-1",
                        "business_type": "110",
                        "served_at": (timezone.now() - dt.timedelta(days=1)).isoformat(),
                        "unit_code": station.code,
                        "officer_code": "",
                        "citizen_phone": PHONES["record"],
                    },
                )
            ],
            source="push",
        )
        assert outcome.created == 1, outcome.as_dict()
        from surveys.models import ServiceRecord

        result.record = ServiceRecord.objects.get(external_id="PD-REC-1")
        run_evaluation(service_date=timezone.localdate(result.record.served_at))
        for sms in OutboundSms.objects.filter(status="queued"):
            send_one(sms.pk)
        receive_inbound(provider="simulator", message_id="PD-IN-1", phone=PHONES["record"], body="3 民警没来")
        result.callback = Callback.objects.get()
        record_call(
            result.callback, outcome="reached", actor=center, note="已沟通", reason="出警慢", is_reasonable=False
        )
        # 6. an opt-out, a QR rating with a phone, a survey sample
        opt_out(phone=PHONES["optout"], source="staff", actor=center)
        point = save_rating_point(None, actor=center, unit=station, kind="window", name="户籍窗口")
        result.rating, _ = submit_qr_rating(
            point, verdict="satisfied", device_id="pd-device-1", phone=PHONES["qr"], text="办事快"
        )
        result.survey = create_survey(title="个人信息测试调查", kind="public", actor=center)
        sample_from_list(result.survey, lines=[PHONES["survey"]], actor=center)
    assert Rating.objects.filter(source="sms").exists()
    return result
