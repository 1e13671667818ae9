"""Training and scoring of the routing model, with no database access (services feeds it rows).

Features: character 1–3-grams within word boundaries (``char_wb``) of the appeal's channel, kind,
title, content and address — Chinese needs no word segmentation for this — hashed into a fixed
number of columns (``HashingVectorizer``: no vocabulary to grow with the data) and weighted by
IDF. Two linear heads (unit and category), each an ``SGDClassifier`` with log loss fitted by
``partial_fit`` over chunks, so memory is bounded by the chunk, not by the history.

The artefact is an ``np.savez`` archive of numeric arrays only; ``load_artefact`` reads it with
``allow_pickle=False``. Scoring is plain numpy (no scikit-learn object is ever stored).
"""

from __future__ import annotations

import io
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

HEADS = ("unit", "category")

DEFAULT_PARAMS = {
    "analyzer": "char_wb",
    "ngram_min": 1,
    "ngram_max": 3,
    "n_features": 2**16,
    "max_chars": 400,  # of one appeal's text: a pasted letter does not make a row 20 times dearer
    "chunk_rows": 5000,
    "epochs": 6,
    "alpha": 1e-5,
    "max_seconds": 1800,
}


@dataclass(frozen=True)
class Row:
    """One closed appeal as a training example; a label is None when unknown."""

    text: str
    unit: int | None
    category: int | None


def appeal_text(*, title: str, content: str, address: str, channel: str, kind: str, max_chars: int = 400) -> str:
    """The text the model reads. Channel and kind are words of their own so their n-grams carry them."""
    body = f"{title} {content}".strip()[:max_chars]
    return f"〔{channel}〕〔{kind}〕 {body} 〔{address}〕"


def _vectorizer(params: dict):
    from sklearn.feature_extraction.text import HashingVectorizer

    return HashingVectorizer(
        analyzer=params["analyzer"],
        ngram_range=(params["ngram_min"], params["ngram_max"]),
        n_features=params["n_features"],
        alternate_sign=False,
        norm=None,
        dtype=np.float32,
    )


def _tfidf(counts: sparse.csr_matrix, idf: np.ndarray) -> sparse.csr_matrix:
    from sklearn.preprocessing import normalize

    x = counts.copy()
    x.data = np.log1p(x.data)  # sublinear term frequency: a repeated word is not ten times the evidence
    x = x @ sparse.diags(idf)
    return normalize(x, norm="l2", copy=False).astype(np.float32)


@dataclass
class Head:
    """One linear classifier: ``coef`` (classes × features, or 1 × features for two classes)."""

    coef: np.ndarray
    intercept: np.ndarray
    classes: np.ndarray

    def proba(self, x: sparse.csr_matrix) -> np.ndarray:
        if len(self.classes) == 1:
            return np.ones((x.shape[0], 1), dtype=np.float64)
        d = np.asarray(x @ self.coef.T, dtype=np.float64) + self.intercept
        p = 1.0 / (1.0 + np.exp(-np.clip(d, -30, 30)))
        if len(self.classes) == 2:
            return np.hstack([1.0 - p, p])
        # One-vs-rest scores normalised to sum to one, as scikit-learn's predict_proba does.
        total = p.sum(axis=1, keepdims=True)
        total[total == 0] = 1.0
        return p / total


@dataclass
class RoutingModel:
    """A loaded model: the vectorizer parameters, the IDF weights and the heads."""

    params: dict
    idf: np.ndarray
    heads: dict[str, Head] = field(default_factory=dict)

    def features(self, texts: Sequence[str]) -> sparse.csr_matrix:
        return _tfidf(_vectorizer(self.params).transform(texts), self.idf)

    def rank(self, texts: Sequence[str], head: str, k: int = 3) -> list[list[tuple[int, float]]]:
        """The k likeliest classes of each text with their probabilities, best first."""
        h = self.heads.get(head)
        if h is None:
            return [[] for _ in texts]
        proba = h.proba(self.features(texts))
        order = np.argsort(-proba, axis=1)[:, :k]
        return [[(int(h.classes[j]), float(proba[i, j])) for j in row] for i, row in enumerate(order)]


def _chunks(n: int, size: int) -> list[slice]:
    return [slice(i, min(i + size, n)) for i in range(0, n, size)]


def fit(rows: Sequence[Row], params: dict | None = None) -> RoutingModel:
    """Fit both heads on ``rows`` in chunks: one pass for document frequencies, then ``epochs``
    passes of ``partial_fit`` in shuffled chunk order, stopping early when ``max_seconds`` is spent."""
    from sklearn.linear_model import SGDClassifier

    params = {**DEFAULT_PARAMS, **(params or {})}
    started = time.monotonic()
    vec = _vectorizer(params)
    texts = [r.text for r in rows]
    n = len(texts)
    chunks = _chunks(n, params["chunk_rows"])
    df = np.zeros(params["n_features"], dtype=np.float64)
    for s in chunks:
        counts = vec.transform(texts[s])
        df += np.bincount(counts.indices, minlength=params["n_features"])
    idf = (np.log((1.0 + n) / (1.0 + df)) + 1.0).astype(np.float32)
    model = RoutingModel(params=params, idf=idf)

    labels = {
        h: np.array([getattr(r, h) if getattr(r, h) is not None else -1 for r in rows], dtype=np.int64) for h in HEADS
    }
    clfs = {}
    for h in HEADS:
        classes = np.unique(labels[h][labels[h] >= 0])
        if len(classes) == 1:
            model.heads[h] = Head(np.zeros((1, params["n_features"]), np.float32), np.zeros(1), classes)
        elif len(classes) > 1:
            clfs[h] = (SGDClassifier(loss="log_loss", alpha=params["alpha"], random_state=0), classes)
    rng = np.random.default_rng(0)
    for epoch in range(params["epochs"]):
        if epoch and time.monotonic() - started > params["max_seconds"]:
            break
        for i in rng.permutation(len(chunks)):
            s = chunks[i]
            x = _tfidf(vec.transform(texts[s]), idf)
            for h, (clf, classes) in clfs.items():
                y = labels[h][s]
                keep = y >= 0
                if keep.any():
                    clf.partial_fit(x[keep], y[keep], classes=classes)
    for h, (clf, classes) in clfs.items():
        model.heads[h] = Head(clf.coef_.astype(np.float32), clf.intercept_.astype(np.float64), classes.astype(np.int64))
    return model


def evaluate(model: RoutingModel, rows: Sequence[Row], head: str) -> tuple[float | None, float | None]:
    """Top-1 and top-3 accuracy of one head on rows that have that label (None when there are none)."""
    labelled = [r for r in rows if getattr(r, head) is not None]
    if not labelled:
        return None, None
    top1 = top3 = 0
    for s in _chunks(len(labelled), 5000):
        part = labelled[s]
        for r, ranked in zip(part, model.rank([r.text for r in part], head, k=3), strict=True):
            classes = [c for c, _p in ranked]
            top1 += bool(classes) and classes[0] == getattr(r, head)
            top3 += getattr(r, head) in classes
    return top1 / len(labelled), top3 / len(labelled)


# --- The artefact: numeric arrays only --------------------------------------------------------


def dump_artefact(model: RoutingModel) -> bytes:
    """The model as an uncompressed ``.npz`` archive of numeric arrays (no object arrays, no pickle)."""
    arrays = {"idf": model.idf}
    for name, h in model.heads.items():
        arrays[f"{name}_coef"] = h.coef
        arrays[f"{name}_intercept"] = h.intercept
        arrays[f"{name}_classes"] = h.classes
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def load_artefact(data: bytes, params: dict) -> RoutingModel:
    """Read an artefact written by ``dump_artefact``. ``allow_pickle=False``: an object array in the
    archive raises instead of being unpickled."""
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        model = RoutingModel(params={**DEFAULT_PARAMS, **params}, idf=npz["idf"])
        for name in HEADS:
            if f"{name}_coef" in npz.files:
                model.heads[name] = Head(npz[f"{name}_coef"], npz[f"{name}_intercept"], npz[f"{name}_classes"])
    return model


def chance(rows: Sequence[Row], head: str) -> float:
    """Accuracy of always answering the most frequent class: the floor a model must beat."""
    values = [getattr(r, head) for r in rows if getattr(r, head) is not None]
    if not values:
        return math.nan
    return max(np.unique(values, return_counts=True)[1]) / len(values)
