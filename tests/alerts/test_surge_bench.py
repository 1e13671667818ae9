"""bench/surge.py at a small size: injected surges of known size and time in Poisson background
traffic are found, and the benchmark prints the delay of each and the false alerts per month."""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

import pytest

from alerts.models import Alert, AlertEvidence

pytestmark = pytest.mark.django_db

BENCH = Path(__file__).resolve().parents[2] / "bench" / "surge.py"


def test_the_benchmark_finds_the_injected_surges_and_prints_its_figures(capsys):
    spec = importlib.util.spec_from_file_location("bench_surge", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    args = argparse.Namespace(days=60, places=5, max_rate=1.0, surges=2, size=12, spread=4.0, step=360, seed=5)
    module.run(args)  # in the test database (main() makes a scratch one)
    out = capsys.readouterr().out
    assert "detected 2/2" in out and "per month" in out and "ms each" in out
    assert out.count(" h (alert at ") == 2
    # each injected surge raised one alert whose evidence holds its appeals
    for alert in Alert.objects.filter(detector="surge"):
        assert AlertEvidence.objects.filter(alert=alert).count() >= 5
