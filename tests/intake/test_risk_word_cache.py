"""Risk words are read once per process and cached, yet a word saved, switched off or deleted is
seen by the very next appeal of the same process (the RiskWord signals bump the cached version)."""

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


def test_a_version_bumped_by_another_process_is_read_at_the_next_appeal():
    RiskWord.objects.create(word="报复")
    assert services.find_risk_words(TEXT) == ["报复"]
    # Another process changed the words: only the shared version tells this one.
    RiskWord.objects.filter(word="报复").update(is_active=False)
    from units.cache import soft_cache

    soft_cache.set(services.RISK_WORDS_VERSION_KEY, "changed-elsewhere", None)
    assert services.find_risk_words(TEXT) == []
