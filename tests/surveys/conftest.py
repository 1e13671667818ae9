"""Fixtures of the surveys tests: those of the SMS layer's tests (the catalogue, a fake Twilio,
sending hours that include now, service records), a callback opened by a citizen's 不满意 reply,
and a rating point (评价二维码) at the station and one at the other station."""

import pytest

from sms.inbound import receive_inbound
from sms.models import OutboundSms
from sms.outbox import send_one
from surveys.models import Callback
from surveys.services.qr_ratings import save_rating_point
from surveys.services.records import run_evaluation
from tests.sms.conftest import always_open, catalogue, fake_twilio, make_record  # noqa: F401 - fixtures


@pytest.fixture
def point(station, center):
    return save_rating_point(None, actor=center, unit=station, kind="window", name="户籍窗口")


@pytest.fixture
def other_point(other_station, center):
    return save_rating_point(None, actor=center, unit=other_station, kind="window", name="出入境窗口")


@pytest.fixture
def make_callback(always_open, make_record, city):  # noqa: F811 - the imported fixtures
    """``make_callback(phone=…)``: a service record for ``phone``, its evaluation SMS sent and
    answered 3 (不满意), which opens the one callback returned."""

    def make(phone: str = "13800001234") -> Callback:
        record = make_record(phone=phone)
        run_evaluation()
        send_one(OutboundSms.objects.get(service_record=record).pk)
        receive_inbound(provider="simulator", message_id=f"SIM-{phone}", phone=phone, body="3 民警没来")
        return Callback.objects.get()

    return make


@pytest.fixture
def callback(make_callback):
    """The callback of a 不满意 reply from 13800001234."""
    return make_callback()
