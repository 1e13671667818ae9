"""Field length limits at every staff and public entry, and similarity bounded whatever the text.

A pushed 3 MB appeal once made its page time out, a 30,000-character one took minutes, and repeat
detection compared every new appeal in full with every earlier one of the caller. The limits are
documented in docs/intake.md: title 120, content 5,000 (mailbox letters 3,000); repeat detection
compares at most the 20 most recent appeals of the caller, on the first 2,000 characters.
"""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from intake import selectors, services, similarity
from intake.forms import HotlineForm, MailboxForm
from intake.models import Appeal

CONTENT_MAX = 5000
TITLE_MAX = 120
MAILBOX_MAX = 3000
MAX_CANDIDATES = 20
SIMILARITY_CHARS = 2000


def long_text(n: int, seed: int) -> str:
    """``n`` pseudo-random CJK characters (no punctuation, so normalisation keeps them all)."""
    rng = random.Random(seed)
    return "".join(chr(0x4E00 + rng.randrange(2000)) for _ in range(n))


# --- the staff hotline form and the public mailboxes ------------------------------------------------


def hotline_data(**overrides) -> dict:
    data = {"channel": "hotline", "citizen_phone": "13800006001", "kind": "complaint", "content": "夜市噪音"}
    data.update(overrides)
    return data


def test_the_hotline_form_refuses_content_and_title_over_the_limit_naming_field_and_limit(city):
    form = HotlineForm(hotline_data(content="长" * (CONTENT_MAX + 1), title="题" * (TITLE_MAX + 1)))
    assert not form.is_valid()
    assert form.errors["content"] == [f"诉求内容不能超过{CONTENT_MAX}个字符。"]
    assert form.errors["title"] == [f"标题不能超过{TITLE_MAX}个字符。"]
    assert HotlineForm(hotline_data(content="长" * CONTENT_MAX, title="题" * TITLE_MAX)).is_valid()


def test_the_hotline_page_registers_nothing_over_the_limit(client, center):
    client.force_login(center)
    response = client.post(reverse("intake:hotline"), hotline_data(content="长" * (CONTENT_MAX + 1)))
    assert response.status_code == 400
    assert f"诉求内容不能超过{CONTENT_MAX}个字符。" in response.content.decode()
    assert not Appeal.objects.exists()


def test_the_mailbox_form_names_the_field_and_its_limit(db):
    form = MailboxForm({"citizen_name": "王", "title": "题" * (TITLE_MAX + 1), "content": "信" * (MAILBOX_MAX + 1)})
    assert not form.is_valid()
    assert form.errors["content"] == [f"来信内容不能超过{MAILBOX_MAX}个字符。"]
    assert form.errors["title"] == [f"标题不能超过{TITLE_MAX}个字符。"]


# --- the appeals API -------------------------------------------------------------------------------


def test_the_appeals_api_refuses_long_fields_with_chinese_messages(api, center):
    client = api.as_user(center)
    body = {
        "channel": "hotline",
        "content": "长" * (CONTENT_MAX + 1),
        "title": "题" * (TITLE_MAX + 1),
        "address": "址" * 201,
        "citizen_name": "名" * 61,
        "category_hint": "类" * 101,
    }
    response = client.post("/api/v1/appeals/", body, format="json")
    assert response.status_code == 400, response.content
    errors = response.json()
    assert errors["content"] == [f"诉求内容不能超过{CONTENT_MAX}个字符。"]
    assert errors["title"] == [f"标题不能超过{TITLE_MAX}个字符。"]
    assert errors["address"] == ["地址不能超过200个字符。"]
    assert errors["citizen_name"] == ["诉求人不能超过60个字符。"]
    assert errors["category_hint"] == ["分类不能超过100个字符。"]
    assert not Appeal.objects.exists()
    ok = client.post("/api/v1/appeals/", {"channel": "hotline", "content": "长" * CONTENT_MAX}, format="json")
    assert ok.status_code == 201, ok.content


# --- similarity bounded in work, not in seconds ----------------------------------------------------


@pytest.fixture
def spy_ngrams(monkeypatch):
    """Records the length of every text turned into n-grams (the only place similarity reads text)."""
    seen: list[int] = []
    real = similarity.ngrams

    def spy(text, n=2):
        seen.append(len(text or ""))
        return real(text, n)

    monkeypatch.setattr(similarity, "ngrams", spy)
    return seen


def test_repeat_detection_compares_a_bounded_number_of_bounded_texts(make_appeal, spy_ngrams):
    phone = "13800005050"
    start = timezone.now() - timedelta(days=2)
    for i in range(50):
        make_appeal(content=long_text(CONTENT_MAX, i), citizen_phone=phone, received_at=start + timedelta(minutes=i))
    spy_ngrams.clear()

    # The newest earlier appeal, said again with a different ending: a repeat.
    newest = Appeal.objects.filter(citizen_phone_hash__gt="").order_by("-received_at").first()
    content = newest.content[:3000] + long_text(2000, 999)
    appeal, created = services.create_appeal(
        channel="12345", external_id="LONG-1", content=content, citizen_phone=phone, received_at=timezone.now()
    )

    assert created
    assert len(spy_ngrams) <= MAX_CANDIDATES + 1  # the new text once, then each candidate once
    assert max(spy_ngrams) <= SIMILARITY_CHARS
    assert sum(spy_ngrams) <= (MAX_CANDIDATES + 1) * SIMILARITY_CHARS
    assert appeal.is_repeat and appeal.repeat_of_id is not None


def test_repeat_detection_looks_only_at_the_most_recent_candidates(make_appeal, spy_ngrams):
    phone = "13800005051"
    start = timezone.now() - timedelta(days=3)
    old = make_appeal(content="小区门口夜市烧烤噪音扰民每天到凌晨两点", citizen_phone=phone, received_at=start)
    for i in range(MAX_CANDIDATES):
        make_appeal(content=long_text(50, i), citizen_phone=phone, received_at=start + timedelta(hours=1, minutes=i))
    spy_ngrams.clear()
    match = services.find_repeat(
        caller_hash=old.citizen_phone_hash, content=old.content, received_at=timezone.now(), exclude_pk=None
    )
    # The old matching appeal is the 21st most recent: beyond K, so not compared and not found.
    assert match is None
    assert len(spy_ngrams) == MAX_CANDIDATES + 1


def test_cosine_reads_only_the_first_characters(spy_ngrams):
    a = long_text(SIMILARITY_CHARS, 1)
    assert similarity.cosine(a + long_text(30_000, 2), a + long_text(30_000, 3)) == 1.0
    assert spy_ngrams == [SIMILARITY_CHARS, SIMILARITY_CHARS]


# --- the appeal page of long appeals ---------------------------------------------------------------


def test_the_page_of_a_long_appeal_sends_only_the_capped_text_to_the_similarity_query(client, center, make_appeal):
    text = long_text(CONTENT_MAX, 7)
    appeal = make_appeal(content=text)
    other = make_appeal(content=text[:4000] + long_text(1000, 8))  # another caller, the same matter
    for i in range(5):
        make_appeal(content=long_text(CONTENT_MAX, 100 + i))
    client.force_login(center)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("intake:appeal", args=[appeal.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert text[:200] in page
    assert other.tracking_code in page  # still found as similar
    for query in queries.captured_queries:
        assert text[: SIMILARITY_CHARS + 1] not in query["sql"]


def test_similar_appeals_skip_legacy_rows_far_over_the_limit(center, make_appeal):
    text = long_text(1000, 11)
    appeal = make_appeal(content=text)
    normal = make_appeal(content=text[:900] + long_text(100, 12))
    # A row from before the limit existed (written directly, as old data would be).
    huge = make_appeal(content="x")
    Appeal.objects.filter(pk=huge.pk).update(content=text * 60)
    found = [row.pk for row, _score in selectors.similar_appeals(appeal, user=center)]
    assert normal.pk in found
    assert huge.pk not in found
