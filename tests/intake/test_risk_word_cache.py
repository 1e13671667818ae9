"""Risk words are read once per process and cached, yet a word saved, switched off or deleted is
seen by the very next appeal of the same process (the RiskWord signals clear the cache) and within
seconds by every other process (units.memo.MAX_AGE_SECONDS)."""

import pytest

from intake import services
from intake.models import RiskWord

pytestmark = pytest.mark.django_db(transaction=True)
TEXT = "楼上装修天天吵，再这样我就要报复他们"


def test_a_risk_word_saved_after_the_cache_was_filled_is_found_at_once():
    assert services.find_risk_words(TEXT) == []  # the per-process cache is now filled
    word = RiskWord.objects.create(word="报复")
    assert services.find_risk_words(TEXT) == ["报复"]
    assert services.propose_severity(content=TEXT, category=None).severity == "red"

    word.is_active = False
    word.save()
    assert services.find_risk_words(TEXT) == []

    word.is_active = True
    word.save()
    assert services.find_risk_words(TEXT) == ["报复"]
    word.delete()
    assert services.find_risk_words(TEXT) == []


def test_a_change_made_by_another_process_is_read_within_the_cache_age(monkeypatch):
    from units import memo

    RiskWord.objects.create(word="报复")
    assert services.find_risk_words(TEXT) == ["报复"]
    # Another process changed the words: no signal reaches this one, only the age of what it read.
    RiskWord.objects.filter(word="报复").update(is_active=False)
    assert services.find_risk_words(TEXT) == ["报复"]
    later = memo._clock() + memo.MAX_AGE_SECONDS + 0.1
    monkeypatch.setattr(memo, "_clock", lambda: later)
    assert services.find_risk_words(TEXT) == []
