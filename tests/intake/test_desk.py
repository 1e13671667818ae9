"""The triage desk: one queue, most severe and oldest first, keyset pages, counts per status."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from intake import selectors, services
from intake.choices import AppealStatus
from intake.models import Appeal

pytestmark = pytest.mark.django_db


def codes(response) -> list[str]:
    return [a.tracking_code for a in response.context["appeals"]]


def test_it_orders_most_severe_then_oldest_first(client, center, make_appeal):
    now = timezone.now()
    blue_old = make_appeal(severity="blue", received_at=now - timedelta(hours=5))
    red_new = make_appeal(severity="red", received_at=now - timedelta(hours=1))
    red_old = make_appeal(severity="red", received_at=now - timedelta(hours=3))
    yellow = make_appeal(severity="yellow", received_at=now - timedelta(hours=9))
    client.force_login(center)
    response = client.get(reverse("intake:desk"))
    assert codes(response) == [a.tracking_code for a in (red_old, red_new, yellow, blue_old)]


def test_it_pages_by_keyset_without_gaps_or_repeats(client, center, make_appeal):
    now = timezone.now()
    made = [
        make_appeal(severity=["red", "orange", "yellow", "blue"][i % 4], received_at=now - timedelta(minutes=i % 3))
        for i in range(23)
    ]
    expected = [a.tracking_code for a in sorted(made, key=lambda a: (a.severity_rank, a.received_at, a.pk))]
    seen, cursor = [], None
    qs = Appeal.objects.all()
    while True:
        page = selectors.desk_page(qs, cursor=cursor, size=5)
        seen += [a.tracking_code for a in page.items]
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert seen == expected
    # A forged cursor is ignored (first page), not an error.
    assert [a.pk for a in selectors.desk_page(qs, cursor="forged", size=5).items] == [
        a.pk for a in selectors.desk_page(qs, size=5).items
    ]
    client.force_login(center)
    first = client.get(reverse("intake:desk"), {"status": "new", "page_size": 10})
    assert first.context["next_url"]
    second = client.get(reverse("intake:desk") + first.context["next_url"])
    assert not set(codes(first)) & set(codes(second))


def test_it_uses_the_same_number_of_queries_for_page_one_and_a_deep_page(client, center, make_appeal):
    for i in range(60):
        make_appeal(content=f"第{i}件诉求:路口信号灯坏了", received_at=timezone.now() - timedelta(minutes=i))
    client.force_login(center)
    client.get(reverse("intake:desk"))  # warm the session and caches
    with CaptureQueriesContext(connection) as first:
        page1 = client.get(reverse("intake:desk"), {"page_size": 20})
    with CaptureQueriesContext(connection) as later:
        client.get(reverse("intake:desk") + page1.context["next_url"])
    assert len(first) == len(later)
    assert not any("OFFSET" in q["sql"].upper() for q in later.captured_queries)


def test_it_counts_open_statuses_with_one_bounded_query_each(make_appeal, center, station):
    make_appeal()
    b, c = make_appeal(), make_appeal()
    services.mark_for_dispatch(b, actor=center)
    services.close_appeal(c, actor=center, reply="已答复")
    with CaptureQueriesContext(connection) as ctx:
        counts = selectors.status_counts(Appeal.objects.all())
    # Closed and merged hold the whole history: not counted (None), so three queries, not five.
    assert len(ctx) == 3
    assert all("LIMIT" in q["sql"] for q in ctx.captured_queries)
    assert counts == {"new": 1, "pending_dispatch": 1, "dispatched": 0, "closed": None, "merged": None}
    assert selectors.count_label(None) == ""


def test_it_shows_counts_beyond_the_cap_as_more_than(make_appeal):
    make_appeal(), make_appeal(), make_appeal()
    counts = selectors.status_counts(Appeal.objects.all(), cap=2)
    assert counts["new"] == 3
    assert selectors.count_label(counts["new"], cap=2) == "2+"
    assert selectors.count_label(2, cap=2) == "2"


def test_it_filters_on_every_criterion(client, center, make_appeal, categories, station, risk_words):
    now = timezone.now()
    noise = make_appeal(
        content="酒吧噪音扰民,凌晨还在放音乐", category=categories["ORDER-NOISE"], received_at=now - timedelta(days=2)
    )
    fraud = make_appeal(
        channel="12345",
        external_id="F1",
        content="接到冒充公检法电话被骗两万元",
        category=categories["FRAUD"],
        is_enterprise=True,
    )
    repeat = make_appeal(
        citizen_phone=noise.citizen_phone,
        content="酒吧噪音扰民,凌晨还在放音乐,再次反映",
        category=categories["ORDER-NOISE"],
    )
    risky = make_appeal(content="再不处理我就同归于尽", kind="complaint")
    services.mark_dispatched(fraud, unit=station, actor=center)
    client.force_login(center)
    url = reverse("intake:desk")

    def found(**params):
        params.setdefault("status", "all")
        return set(codes(client.get(url, params)))

    assert found(q="酒吧噪音") == {noise.tracking_code, repeat.tracking_code}
    assert found(q=noise.tracking_code.lower()) == {noise.tracking_code}
    assert found(channel="12345") == {fraud.tracking_code}
    assert found(category=categories["ORDER"].pk) == {noise.tracking_code, repeat.tracking_code}
    assert found(severity="red") == {risky.tracking_code}
    assert found(unit=station.parent.pk) == {fraud.tracking_code}
    assert found(status="dispatched") == {fraud.tracking_code}
    assert found(is_repeat="true") == {repeat.tracking_code}
    assert found(is_enterprise="true") == {fraud.tracking_code}
    assert found(has_risk="true") == {risky.tracking_code}
    day = timezone.localdate(now - timedelta(days=2)).isoformat()
    assert found(received_before=day) == {noise.tracking_code}
    assert noise.tracking_code not in found(received_after=timezone.localdate().isoformat())
    # The default view is the queue of appeals waiting for triage, with counts of every status.
    default = client.get(url)
    assert fraud.tracking_code not in codes(default)
    tabs = {t["value"]: t["count"] for t in default.context["tabs"]}
    assert tabs["new"] == 3 and tabs["dispatched"] == 1


def test_it_shows_unit_users_only_their_units_appeals(client, make_appeal, center, handler, station, other_station):
    mine, theirs = make_appeal(), make_appeal()
    services.mark_dispatched(mine, unit=station, actor=center)
    services.mark_dispatched(theirs, unit=other_station, actor=center)
    client.force_login(handler)
    assert set(codes(client.get(reverse("intake:desk"), {"status": "all"}))) == {mine.tracking_code}
    assert client.get(reverse("intake:appeal", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("intake:appeal", args=[mine.pk])).status_code == 200
    assert client.post(reverse("intake:reveal_phone", args=[theirs.pk]), {"reason": "核实"}).status_code == 404
    assert client.post(reverse("intake:close", args=[mine.pk]), {"reply": "x"}).status_code == 403
    assert client.get(reverse("intake:hotline")).status_code == 403


def test_it_lets_staff_triage_merge_and_close_from_the_appeal_page(client, center, make_appeal, categories):
    appeal = make_appeal()
    original = make_appeal(content="别的事情")
    client.force_login(center)
    url = reverse("intake:appeal", args=[appeal.pk])
    r = client.post(
        reverse("intake:triage", args=[appeal.pk]),
        {"kind": "consultation", "severity": "yellow", "category": categories["HOUSEHOLD-ID"].pk},
    )
    assert r.status_code == 302 and r.url == url
    appeal.refresh_from_db()
    assert appeal.kind == "consultation" and appeal.severity == "yellow"
    client.post(reverse("intake:close", args=[appeal.pk]), {"reply": "身份证补办请携带户口簿到户籍窗口。"})
    appeal.refresh_from_db()
    assert appeal.status == AppealStatus.CLOSED
    r = client.post(reverse("intake:merge", args=[appeal.pk]), {"into": original.tracking_code}, follow=True)
    assert "不能变更为" in r.content.decode()
    page = client.get(url).content.decode()
    assert "研判" in page and "答复办结" in page and "身份证补办请携带户口簿" in page


def test_it_reveals_the_phone_on_a_click_and_logs_it(client, center, make_appeal):
    appeal = make_appeal(citizen_phone="13800004321")
    client.force_login(center)
    page = client.get(reverse("intake:appeal", args=[appeal.pk])).content.decode()
    assert "138****4321" in page and "13800004321" not in page
    assert 'data-testid="reveal-reason"' in page
    fragment = client.post(reverse("intake:reveal_phone", args=[appeal.pk]), {"reason": "联系群众"})
    assert "13800004321" in fragment.content.decode()
    assert appeal.phone_reveals.get().user == center
    assert client.get(reverse("intake:reveal_phone", args=[appeal.pk])).status_code == 405


def test_it_shows_the_caller_history_and_similar_appeals_from_others(client, center, make_appeal):
    phone = "13800001357"
    earlier = make_appeal(citizen_phone=phone, content="楼上装修噪音,周末早上七点就开始")
    appeal = make_appeal(citizen_phone=phone, content="反映电动车在小区楼道充电,有火灾隐患")
    other = make_appeal(content="电动车在小区楼道充电,有火灾隐患,请管一管")
    client.force_login(center)
    response = client.get(reverse("intake:appeal", args=[appeal.pk]))
    assert [a.pk for a in response.context["history"]] == [earlier.pk]
    assert other.pk in [a.pk for a, _score in response.context["similar"]]
    assert earlier.pk not in [a.pk for a, _score in response.context["similar"]]


def test_it_serves_free_text_search_from_bigrams_and_similar_appeals_from_trigrams(make_appeal):
    make_appeal()
    from intake.filters import AppealFilter

    qs = AppealFilter({"q": "夜市烧烤"}, queryset=Appeal.objects.only("id")).qs.order_by()
    similar = Appeal.objects.filter(content__trigram_similar="夜市烧烤噪音").only("id").order_by()
    with connection.cursor() as cursor:
        # Tiny test tables make any plan cheap: leave the planner only bitmap scans, which need an
        # index that answers the condition itself.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
    plan = qs.explain()
    assert "Seq Scan" not in plan
    assert "appeal_search_terms" in plan
    assert "appeal_content_trgm" in similar.explain()


def test_it_answers_bad_filters_with_an_empty_list_and_a_message(client, center, make_appeal):
    make_appeal()
    client.force_login(center)
    response = client.get(reverse("intake:desk"), {"severity": "purple", "received_after": "yesterday", "cursor": "x"})
    assert response.status_code == 200
    assert codes(response) == []
    assert 'class="alert"' in response.content.decode()
