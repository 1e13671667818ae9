"""Fixtures of the surveys tests: those of the SMS layer's tests (the catalogue, a fake Twilio,
sending hours that include now, service records)."""

from tests.sms.conftest import always_open, catalogue, fake_twilio, make_record  # noqa: F401 - fixtures
