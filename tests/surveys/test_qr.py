"""QR-code ratings (扫码评警): signed links, the public form, rate limits, folding, bad reviews
that warn the leader and open one rectification order, the printable sheet, the staff pages."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from intake.phones import phone_hash
from surveys import qr
from surveys.choices import RatingSource, Verdict
from surveys.models import Callback, Rating, RatingPoint
from surveys.services.qr_ratings import (
    RateLimited,
    rectify_bad_review,
    rectify_pending_bad_reviews,
    rotate_rating_point,
    save_rating_point,
    submit_qr_rating,
)
from tests.helpers import stored_column
from units.models import Notification

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_counters():
    cache.clear()
    yield
    cache.clear()


def _form_url(p: RatingPoint) -> str:
    return qr.rating_path(p)


def _open(client: Client, p: RatingPoint):
    response = client.get(_form_url(p))
    assert response.status_code == 200
    return response


def _rate(client: Client, p: RatingPoint, **data):
    payload = {"verdict": "satisfied", **data}
    return client.post(_form_url(p), payload)


# --- the signed link ---------------------------------------------------------------------------


def test_it_opens_the_form_of_a_valid_link_and_sets_a_device_cookie(point):
    client = Client()
    response = _open(client, point)
    page = response.content.decode()
    assert "滨江派出所 · 户籍窗口" in page
    assert "基本满意" in page and "态度差" in page and "效率高" in page
    assert "oc_device" in response.cookies


def test_it_answers_a_tampered_link_with_a_chinese_404(point):
    token = qr.token_for(point)
    pk_version, signature = token.split(":", 1)
    forged = [
        f"{point.pk + 1}.{point.token_version}:{signature}",  # another point, same signature
        f"{point.pk}.{point.token_version + 1}:{signature}",  # a forged version
        f"{pk_version}:{signature[:-2]}xx",  # a damaged signature
        "garbage",
        f"{pk_version}",
    ]
    client = Client()
    for token in forged:
        response = client.get(f"/qr/{token}/")
        assert response.status_code == 404, token
        assert "二维码无效" in response.content.decode()
        assert client.post(f"/qr/{token}/", {"verdict": "satisfied"}).status_code == 404
    assert not Rating.objects.exists()


def test_it_invalidates_old_stickers_when_a_point_is_rotated(point, center):
    old = _form_url(point)
    client = Client()
    assert client.get(old).status_code == 200
    rotated = rotate_rating_point(point, actor=center)
    assert rotated.token_version == 2
    assert client.get(old).status_code == 404
    assert client.post(old, {"verdict": "satisfied"}).status_code == 404
    assert client.get(_form_url(rotated)).status_code == 200
    rotate_rating_point(rotated, actor=center)
    assert RatingPoint.objects.get(pk=point.pk).token_version == 3


def test_it_refuses_the_link_of_a_point_switched_off(point, center, station):
    link = _form_url(point)
    save_rating_point(point, actor=center, unit=station, kind="window", name="户籍窗口", is_active=False)
    assert Client().get(link).status_code == 404


# --- the public form ---------------------------------------------------------------------------


def test_it_records_a_qr_rating_with_tags_comment_and_an_encrypted_phone(point, station):
    client = Client()
    _open(client, point)
    response = _rate(
        client, point, verdict="basic", tags=["efficient", "patient"], text="排队有点久", phone="138 0000 1234"
    )
    assert response.status_code == 302
    assert response["Location"].endswith("/thanks/")
    rating = Rating.objects.get()
    assert (rating.source, rating.verdict, rating.unit, rating.rating_point) == (
        RatingSource.QR,
        Verdict.BASIC,
        station,
        point,
    )
    assert rating.tags == ["efficient", "patient"]
    assert rating.tag_labels == ["效率高", "解释耐心"]
    assert rating.text == "排队有点久"
    assert rating.phone == "+8613800001234"
    assert rating.phone_hash == phone_hash("+8613800001234")
    assert "13800001234" not in stored_column(rating, "phone")
    assert rating.device_hash and len(rating.device_hash) == 64
    thanks = client.get(response["Location"])
    assert "感谢您的评价" in thanks.content.decode()


def test_it_explains_bad_input_in_chinese(point):
    client = Client()
    _open(client, point)
    response = client.post(_form_url(point), {"text": "没选"})
    assert response.status_code == 400
    assert "请选择满意、基本满意或不满意" in response.content.decode()
    response = _rate(client, point, phone="12345")
    assert response.status_code == 400
    assert "手机" in response.content.decode() or "号码" in response.content.decode()
    response = _rate(client, point, tags=["bribe"])
    assert response.status_code == 400
    assert not Rating.objects.exists()


def test_it_refuses_a_submission_without_the_device_cookie(point):
    response = Client().post(_form_url(point), {"verdict": "satisfied"})
    assert response.status_code == 400
    assert "Cookie" in response.content.decode()
    assert not Rating.objects.exists()


# --- folding and rate limits ---------------------------------------------------------------------


def test_it_folds_a_second_rating_from_the_same_device_into_the_first(point, other_point, settings):
    settings.SURVEYS_QR_FOLD_HOURS = 24
    client = Client()
    _open(client, point)
    _rate(client, point, verdict="satisfied", text="很好")
    _rate(client, point, verdict="basic", tags=["slow"], text="其实有点慢")
    rating = Rating.objects.get()
    assert (rating.verdict, rating.text, rating.tags, rating.folds) == (Verdict.BASIC, "其实有点慢", ["slow"], 1)
    assert rating.updated_at is not None
    # Another point is another rating; another device is another rating.
    _open(client, other_point)
    _rate(client, other_point)
    stranger = Client()
    _open(stranger, point)
    _rate(stranger, point)
    assert Rating.objects.count() == 3
    assert Rating.objects.filter(rating_point=point).count() == 2


def test_it_counts_a_new_rating_after_the_folding_window(point, settings):
    settings.SURVEYS_QR_FOLD_HOURS = 24
    start = timezone.now()
    client = Client()
    with time_machine.travel(start, tick=False):
        _open(client, point)
        _rate(client, point)
    with time_machine.travel(start + dt.timedelta(hours=25), tick=False):
        _rate(client, point, verdict="basic")
    assert list(Rating.objects.order_by("rated_at").values_list("verdict", flat=True)) == ["satisfied", "basic"]


def test_it_limits_submissions_per_device(point, other_point, settings):
    settings.SURVEYS_QR_PER_DEVICE_PER_HOUR = 2
    client = Client()
    _open(client, point)
    assert _rate(client, point).status_code == 302
    assert _rate(client, point).status_code == 302
    response = _rate(client, other_point)
    assert response.status_code == 429
    assert "提交过于频繁" in response.content.decode()
    assert Rating.objects.count() == 1  # the second one folded; the third was refused
    fresh = Client()
    _open(fresh, other_point)
    assert _rate(fresh, other_point).status_code == 302


def test_it_limits_submissions_per_phone(point, other_point, settings):
    settings.SURVEYS_QR_PER_PHONE_PER_DAY = 1
    a, b = Client(), Client()
    _open(a, point)
    _open(b, other_point)
    assert _rate(a, point, phone="13800001234").status_code == 302
    assert _rate(b, other_point, phone="+86 138-0000-1234").status_code == 429
    assert _rate(b, other_point, phone="13800004321").status_code == 302


def test_it_limits_submissions_per_point(point, settings):
    settings.SURVEYS_QR_PER_POINT_PER_HOUR = 2
    for _ in range(2):
        c = Client()
        _open(c, point)
        assert _rate(c, point).status_code == 302
    c = Client()
    _open(c, point)
    assert _rate(c, point).status_code == 429
    with pytest.raises(RateLimited):
        submit_qr_rating(point, verdict="satisfied", device_id="another-device")
    assert Rating.objects.count() == 2


# --- a bad review ----------------------------------------------------------------------------


def test_it_warns_the_leader_and_opens_one_rectification_order_for_a_bad_review(point, leader, handler2, station):
    from intake.choices import Channel
    from intake.models import Appeal
    from workorders.models import WorkOrder

    client = Client()
    _open(client, point)
    _rate(client, point, verdict="dissatisfied", tags=["attitude_bad"], text="民警玩手机不理人")
    _rate(client, point, verdict="dissatisfied", tags=["attitude_bad", "slow"], text="民警玩手机不理人，等了一小时")
    rating = Rating.objects.get()
    assert rating.folds == 1
    assert rating.rectification_appeal_id and rating.rectification_order_id
    appeal = Appeal.objects.get(channel=Channel.QR_RATING)
    assert appeal.external_id == f"qr-rating-{rating.pk}"
    assert "户籍窗口" in appeal.content and "态度差" in appeal.content
    order = WorkOrder.objects.get(appeal=appeal)
    assert order.unit == station
    assert order.pk == rating.rectification_order_id
    assert WorkOrder.objects.filter(appeal__channel=Channel.QR_RATING).count() == 1
    # Run the step again, and the sweeper: still one order, one warning.
    rectify_bad_review(rating)
    assert rectify_pending_bad_reviews(now=timezone.now() + dt.timedelta(hours=1)) == 0
    assert WorkOrder.objects.filter(appeal__channel=Channel.QR_RATING).count() == 1
    warnings = Notification.objects.filter(user=leader, dedupe_key=f"surveys:qr-bad-review:{rating.pk}")
    assert warnings.count() == 1
    assert order.number in warnings.get().text
    assert not Notification.objects.filter(user=handler2, dedupe_key__startswith="surveys:qr-bad-review").exists()
    # No phone left: nobody can be called back.
    assert not Callback.objects.exists()


def test_it_puts_a_bad_review_with_a_phone_on_the_callback_desk_already_rectified(point, center):
    from surveys.services.callbacks import open_rectification, record_call
    from workorders.models import WorkOrder

    rating, folded = submit_qr_rating(
        point, verdict="dissatisfied", device_id="dev-1", phone="13800001234", text="办事慢"
    )
    assert not folded
    callback = Callback.objects.get(rating=rating)
    assert callback.rectification_order_id == rating.rectification_order_id
    record_call(callback, outcome="reached", actor=center, reason="办事慢", is_reasonable=True)
    open_rectification(callback, actor=center)  # the order exists: nothing new
    assert WorkOrder.objects.count() == 1


def test_it_opens_the_order_when_the_rating_changes_to_dissatisfied(point):
    from workorders.models import WorkOrder

    submit_qr_rating(point, verdict="satisfied", device_id="dev-1")
    assert not WorkOrder.objects.exists()
    rating, folded = submit_qr_rating(point, verdict="dissatisfied", device_id="dev-1", tags=["runaround"])
    assert folded
    assert WorkOrder.objects.count() == 1


def test_the_sweeper_opens_orders_the_form_could_not(point, station, leader):
    """The unit was switched off for a while, so the work-order app refused the order: the rating
    is kept, and the sweeper opens the order once the unit takes orders again."""
    from units.models import Unit
    from workorders.models import WorkOrder

    Unit.objects.filter(pk=station.pk).update(is_active=False)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        rating, _folded = submit_qr_rating(point, verdict="dissatisfied", device_id="dev-1", text="态度差")
    rating.refresh_from_db()
    assert rating.verdict == Verdict.DISSATISFIED and rating.rectification_appeal_id is None  # nothing lost
    later = start + dt.timedelta(minutes=5)
    assert rectify_pending_bad_reviews(now=later) == 0  # still refused, still kept
    Unit.objects.filter(pk=station.pk).update(is_active=True)
    assert rectify_pending_bad_reviews(now=later) == 1
    assert rectify_pending_bad_reviews(now=later) == 0
    assert WorkOrder.objects.count() == 1
    assert Notification.objects.filter(user=leader, dedupe_key__startswith="surveys:qr-bad-review").count() == 1


# --- staff pages ---------------------------------------------------------------------------


def test_it_lists_points_with_qr_previews_within_the_users_units(point, other_point, handler, client):
    client.force_login(handler)
    page = client.get("/surveys/rating-points/").content.decode()
    assert "户籍窗口" in page and "出入境窗口" not in page
    assert "<svg" in page
    assert client.get(f"/surveys/rating-points/{other_point.pk}/").status_code == 404
    assert client.get(f"/surveys/rating-points/{point.pk}/").status_code == 200
    assert client.get("/surveys/rating-points/new/").status_code == 403
    assert client.post(f"/surveys/rating-points/{point.pk}/rotate/").status_code == 403


def test_it_prints_an_a4_sheet_of_a_units_points(point, other_point, center, station, client):
    save_rating_point(None, actor=center, unit=station, kind="badge", name="民警王强", officer_code="010203")
    client.force_login(center)
    page = client.get(f"/surveys/rating-points/sheet/?unit={station.pk}").content.decode()
    assert page.count('data-testid="sticker"') == 2
    assert "户籍窗口" in page and "民警王强" in page and "出入境窗口" not in page
    assert page.count("<svg") == 2
    assert "滨江派出所" in page
    decoded = qr.token_for(point)
    assert decoded.startswith(f"{point.pk}.1:")


def test_center_staff_create_edit_and_rotate_points_through_the_pages(center, station, client):
    client.force_login(center)
    response = client.post(
        "/surveys/rating-points/new/", {"unit": station.pk, "kind": "window", "name": "车管窗口", "is_active": "on"}
    )
    assert response.status_code == 302
    made = RatingPoint.objects.get(name="车管窗口")
    again = client.post(
        "/surveys/rating-points/new/", {"unit": station.pk, "kind": "window", "name": "车管窗口", "is_active": "on"}
    )
    assert again.status_code == 400 and "同名" in again.content.decode()
    badge = client.post("/surveys/rating-points/new/", {"unit": station.pk, "kind": "badge", "name": "民警"})
    assert badge.status_code == 400 and "警号" in badge.content.decode()
    client.post(f"/surveys/rating-points/{made.pk}/rotate/")
    made.refresh_from_db()
    assert made.token_version == 2
    detail = client.get(f"/surveys/rating-points/{made.pk}/").content.decode()
    assert f"{made.pk}.2:" in detail


def test_qr_ratings_appear_in_the_ratings_list(point, leader, client):
    submit_qr_rating(point, verdict="dissatisfied", device_id="dev-1", tags=["attitude_bad"], text="不理人")
    client.force_login(leader)
    page = client.get("/surveys/ratings/?source=qr").content.decode()
    assert "扫码评价 · 户籍窗口" in page and "态度差" in page


def test_leaders_see_their_units_bad_reviews_on_the_home_page(point, other_point, leader, client):
    submit_qr_rating(point, verdict="dissatisfied", device_id="dev-1", tags=["slow"], text="等了一个小时")
    submit_qr_rating(other_point, verdict="dissatisfied", device_id="dev-2", text="别的所的事")
    client.force_login(leader)
    page = client.get("/").content.decode()
    assert "扫码评价（近7天）" in page
    assert "等了一个小时" in page and "别的所的事" not in page


def test_a_sticker_survives_a_secret_key_rotation_only_with_the_fallback(point, settings):
    link = _form_url(point)
    old_key = settings.SECRET_KEY
    settings.SECRET_KEY = "a-new-secret-key-of-the-deployment-0123456789"
    settings.SECRET_KEY_FALLBACKS = [old_key]
    assert Client().get(link).status_code == 200
    settings.SECRET_KEY_FALLBACKS = []
    assert Client().get(link).status_code == 404
