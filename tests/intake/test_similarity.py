"""The character-bigram similarity behind repeat detection."""

from intake.similarity import cosine, jaccard, ngrams, normalise


def test_it_ignores_punctuation_spaces_and_width():
    assert normalise("夜市 烧烤,噪音!ＡＢ") == "夜市烧烤噪音ab"


def test_it_counts_bigrams():
    assert ngrams("噪音噪音") == {"噪音": 2, "音噪": 1}
    assert ngrams("噪") == {"噪": 1}
    assert ngrams("") == {}


def test_it_scores_the_same_matter_high_and_different_matters_low():
    a = "小区门口夜市烧烤噪音扰民,每天到凌晨两点"
    b = "又来反映:小区门口的夜市烧烤噪音扰民,凌晨两点还在吵"
    c = "身份证丢失了怎么补办,需要带什么材料"
    assert cosine(a, a) == 1.0
    assert cosine(a, b) > 0.5
    assert cosine(a, c) < 0.1
    assert 0 < jaccard(a, b) < cosine(a, b)
    assert cosine(a, "") == 0.0 and jaccard("", a) == 0.0


def test_pairs_joined_in_c_are_the_sliced_pairs():
    """``ngrams`` builds character pairs with ``map(operator.add, …)`` (2,000 texts a monthly
    bulletin); the pairs and the norm are those of slicing every position."""
    import math
    from collections import Counter

    from intake.similarity import ngrams, norm, normalise

    texts = [
        "小区门口夜间常有货车鸣笛卸货，影响居民休息",
        "ab",
        "a",
        "",
        "Ｈｅｌｌｏ 世界!!",
        "噪音噪音噪音",
        "12345热线",
    ]
    for text in texts:
        clean = normalise(text)
        sliced = (
            Counter(clean[i : i + 2] for i in range(len(clean) - 1)) if len(clean) >= 2 else Counter(clean and [clean])
        )
        assert ngrams(text) == sliced, text
        assert norm(ngrams(text)) == math.sqrt(sum(c * c for c in sliced.values())), text
    assert ngrams("噪音噪音", 3) == Counter({"噪音噪": 1, "音噪音": 1})  # other sizes still slice
