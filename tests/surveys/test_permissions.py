"""The surveys' actions are offered exactly to whom they are allowed: for each role, a handler of
another unit and a superuser whose role is not the administrator's, the callback page's forms and
number reveal, the rating point's 更换二维码, the survey form and the record import are on the
page if and only if posting them (or calling the API) works, and ``surveys.permissions`` decides
them all."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from intake.models import PhoneReveal
from surveys import permissions
from surveys.models import CallbackAttempt, RatingPoint, ServiceRecord, Survey
from surveys.services.callbacks import close_callback

pytestmark = pytest.mark.django_db

CAST = ("center", "handler", "leader", "handler2", "supervisor", "administrator", "superuser")


@pytest.fixture
def callback(make_callback):
    return make_callback(phone="13800007701")


@pytest.mark.parametrize("name", CAST)
def test_the_call_form_and_the_reveal_are_shown_exactly_when_they_work(name, request, client, api, callback):
    user = request.getfixturevalue(name)
    client.force_login(user)
    page = client.get(f"/surveys/callbacks/{callback.pk}/")
    html = page.content.decode() if page.status_code == 200 else ""
    call_shown, reveal_shown = (
        'data-testid="call-form"' in html,
        "callback-reveal-phone" in html or (f"/surveys/callbacks/{callback.pk}/reveal-phone/" in html),
    )
    assert call_shown == reveal_shown == permissions.may_work_callback(user), name
    client.post(f"/surveys/callbacks/{callback.pk}/", {"action": "call", "outcome": "no_answer"})
    assert CallbackAttempt.objects.filter(callback=callback).exists() == call_shown, name
    client.post(f"/surveys/callbacks/{callback.pk}/reveal-phone/", {"reason": "回访不满意群众"})
    assert PhoneReveal.objects.filter(user=user).exists() == reveal_shown, name
    answer = api.as_user(user).post(
        f"/api/v1/callbacks/{callback.pk}/record-call/", {"outcome": "no_answer"}, format="json"
    )
    assert (answer.status_code == 200) == call_shown, (name, answer.status_code)


def test_a_closed_callback_keeps_its_reveal_and_offers_no_call(client, callback, center):
    close_callback(callback, verdict="explained", actor=center, note="已向群众解释相关规定。")
    client.force_login(center)
    html = client.get(f"/surveys/callbacks/{callback.pk}/").content.decode()
    assert 'data-testid="call-form"' not in html
    assert f"/surveys/callbacks/{callback.pk}/reveal-phone/" in html
    assert client.post(f"/surveys/callbacks/{callback.pk}/reveal-phone/", {"reason": "复核结案"}).status_code == 200


@pytest.mark.parametrize("name", CAST)
def test_the_rating_point_buttons_are_shown_exactly_when_editing_works(name, request, client, api, station, point):
    user = request.getfixturevalue(name)
    client.force_login(user)
    page = client.get(f"/surveys/rating-points/{point.pk}/")
    html = page.content.decode() if page.status_code == 200 else ""
    shown = f'action="/surveys/rating-points/{point.pk}/rotate/"' in html
    assert (
        shown == (f'href="/surveys/rating-points/{point.pk}/edit/"' in html) == permissions.may_edit_rating_points(user)
    )
    client.post(f"/surveys/rating-points/{point.pk}/rotate/")
    point.refresh_from_db()
    assert (point.token_version > 1) == shown, name
    answer = api.as_user(user).post(f"/api/v1/rating-points/{point.pk}/rotate/")
    assert (answer.status_code == 200) == shown, (name, answer.status_code)
    listing = client.get("/surveys/rating-points/")
    new_shown = listing.status_code == 200 and 'href="/surveys/rating-points/new/' in listing.content.decode()
    assert new_shown == shown, name
    client.post("/surveys/rating-points/new/", {"unit": station.pk, "kind": "window", "name": f"{name}窗口"})
    assert RatingPoint.objects.filter(name=f"{name}窗口").exists() == shown, name


@pytest.mark.parametrize("name", CAST)
def test_the_survey_form_is_shown_exactly_to_whom_a_survey_is_created(name, request, client):
    user = request.getfixturevalue(name)
    client.force_login(user)
    page = client.get("/surveys/polls/")
    shown = page.status_code == 200 and 'name="title"' in page.content.decode()
    assert shown == permissions.may_run_surveys(user), name
    client.post("/surveys/polls/", {"title": f"{name}的调查", "kind": "public"})
    assert Survey.objects.filter(title=f"{name}的调查").exists() == shown, name


@pytest.mark.parametrize("name", CAST)
def test_the_import_form_is_shown_exactly_to_whom_an_import_is_taken(name, request, client, station):
    user = request.getfixturevalue(name)
    client.force_login(user)
    page = client.get("/surveys/records/")
    shown = page.status_code == 200 and 'action="/surveys/records/import/"' in page.content.decode()
    assert shown == permissions.may_import_records(user), name
    body = f"业务编号,业务类型,办理时间,单位代码,群众电话\r\nPERM-{name},110,2026-05-20 10:00,{station.code},13800007702\r\n"
    client.post("/surveys/records/import/", {"file": SimpleUploadedFile("r.csv", body.encode("utf-8-sig"))})
    assert ServiceRecord.objects.filter(external_id=f"PERM-{name}").exists() == shown, name
