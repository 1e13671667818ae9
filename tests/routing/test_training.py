"""Training on the generated history, the time split, the not-worse rule and pickle-free loading."""

from __future__ import annotations

import io
import pickle

import numpy as np
import pytest

from routing import services, training
from routing.models import TrainedModel

pytestmark = pytest.mark.django_db


def test_it_beats_chance_and_the_rules_on_the_last_month(history):
    run = services.train_model()
    examples = services.closed_examples(limit=10_000)
    test = [e.row for e in examples if e.at >= run.test_from]
    assert run.status == "active"
    assert run.train_rows > 300 and run.test_rows == len(test) > 50
    floor = training.chance(test, "unit")
    assert run.unit_top1 > floor + 0.3, (run.unit_top1, floor)
    assert run.unit_top1 >= 0.75 and run.unit_top3 >= run.unit_top1
    assert run.category_top1 >= 0.75
    # The rules route traffic to the detachment and know few streets: the model learns the brigades.
    assert run.rules_unit_top1 is not None and run.unit_top1 > run.rules_unit_top1
    assert run.seconds > 0 and len(run.sha256) == 64


def test_it_uses_the_final_unit_of_a_handed_back_appeal_as_label(history):
    from workorders.models import WorkOrder

    handed = WorkOrder.objects.filter(status="handed_back").select_related("appeal").first()
    final = WorkOrder.objects.get(appeal=handed.appeal, status="closed")
    by_appeal = {e.appeal_id: e.row.unit for e in services.closed_examples(limit=100_000)}
    assert by_appeal[handed.appeal_id] == final.unit_id != handed.unit_id


def test_it_keeps_the_active_model_when_the_new_one_is_worse(trained):
    worse = services.train_model(params={"ngram_max": 1, "epochs": 1, "alpha": 0.5})
    assert worse.status == "rejected"
    assert worse.previous_unit_top1 == pytest.approx(trained.unit_top1)
    assert worse.unit_top1 < trained.unit_top1 and worse.artefact is None
    assert services.loaded_model()[0].version == trained.version
    # Not worse (the same data and seed give the same figure) is enough to replace it.
    same = services.train_model()
    assert same.status == "active" and same.unit_top1 == pytest.approx(trained.unit_top1)
    trained.refresh_from_db()
    assert trained.status == "retired"
    assert services.loaded_model()[0].version == same.version
    assert TrainedModel.objects.count() == 3  # every run stays in the history


def test_it_records_a_run_without_enough_history(categories):
    run = services.train_model()
    assert run.status == "failed" and "样本不足" in run.note
    assert services.loaded_model() is None


def test_the_artefact_is_numeric_arrays_read_without_pickle(trained, monkeypatch):
    data = bytes(TrainedModel.objects.get(pk=trained.pk).artefact)
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        assert {"idf", "unit_coef", "unit_classes", "category_coef"} <= set(npz.files)
        for name in npz.files:
            assert npz[name].dtype.kind in "fiu", name
    assert b"\x80\x04\x95" not in data and b"\x80\x05\x95" not in data  # no pickle protocol 4/5 frame

    def refuse(*args, **kwargs):
        raise AssertionError("loading a model must not unpickle")

    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(pickle, "load", refuse)
    services.forget_loaded_model()
    meta, model = services.loaded_model()
    assert meta.version == trained.version and model.heads["unit"].coef.shape[1] == 2**14


def test_an_object_array_is_refused_and_a_tampered_artefact_is_not_loaded(trained):
    buf = io.BytesIO()
    np.savez(buf, idf=np.array([{"x": 1}], dtype=object))
    with pytest.raises(ValueError):
        training.load_artefact(buf.getvalue(), {})
    TrainedModel.objects.filter(pk=trained.pk).update(artefact=b"tampered" + bytes(trained.artefact)[8:])
    services.forget_loaded_model()
    assert services.loaded_model() is None


def test_the_model_is_loaded_once_per_version(trained, django_assert_num_queries):
    services.loaded_model()
    with django_assert_num_queries(1):  # the version check only; the artefact stays in memory
        assert services.loaded_model()[0].version == trained.version
