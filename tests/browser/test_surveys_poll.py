"""An invited citizen opens the personal link of a survey on a phone, answers and sees the
thank-you page; the report counts the answer."""

from __future__ import annotations

import pytest

from surveys.catalogue import seed_defaults
from surveys.models import SurveyInvitation, SurveyResponse
from surveys.selectors import survey_report
from surveys.services.polls import create_survey, open_survey, sample_from_list
from units.models import User

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_answers_a_survey_from_a_phone(phone_page, live_server, city, settings):
    settings.SMS_SEND_HOURS = "00:00-23:59:59"
    seed_defaults()
    center = User.objects.get(username="center")
    survey = create_survey(title="群众安全感调查", kind="public", actor=center)
    sample_from_list(survey, lines=["13800005678"], actor=center)
    open_survey(survey, actor=center, base_url=live_server.url)
    invitation = SurveyInvitation.objects.get(survey=survey)
    assert f"{live_server.url}/s/{invitation.token}/" in invitation.sms.text

    page = phone_page
    page.goto(f"{live_server.url}/s/{invitation.token}/")
    page.locator("label.qr-tag", has_text="比较安全").click()
    page.locator("label.qr-tag", has_text="4分").click()
    page.locator("label.qr-tag", has_text="没有接触过").click()
    page.fill("textarea", "夜里路灯太暗")
    page.locator("[data-testid=survey-submit]").click()
    assert "感谢您的参与" in page.locator("[data-testid=survey-thanks]").inner_text()

    response = SurveyResponse.objects.get(invitation=invitation)
    assert "夜里路灯太暗" in response.answers.values()
    assert survey_report(survey)["rate"] == 100.0
