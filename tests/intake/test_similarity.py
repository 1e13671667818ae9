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
