"""The demo leaves alerts of every kind, raised by the detectors over generated traffic."""

from __future__ import annotations

import pytest

from alerts import demo
from alerts.choices import Detector
from alerts.models import Alert, AlertEvent
from analytics.choices import BulletinKind
from analytics.models import Bulletin

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_city(db):
    from intake.demo import load_categories
    from units import demo as units_demo

    units_demo.load()
    load_categories()


def test_the_demo_raises_alerts_of_each_kind_with_evidence_and_loads_twice_alike(demo_city):
    demo.load()
    kinds = set(Alert.objects.values_list("detector", flat=True))
    assert kinds == {Detector.SURGE, Detector.GROUP, Detector.CALLER}
    surge = Alert.objects.get(detector=Detector.SURGE)
    assert surge.place == "滨江路" and surge.observed == 7 and surge.expected is not None
    assert surge.unit.code == "LJ101"  # the demo leader's station sees it
    group = Alert.objects.get(detector=Detector.GROUP)
    assert group.place == "江南小区" and group.observed == 6
    assert Alert.objects.filter(detector=Detector.CALLER).count() == 2
    for alert in Alert.objects.all():
        assert alert.appeals.exists()
        assert AlertEvent.objects.filter(alert=alert, action="raised", actor=None).exists()  # the detectors'
    before = (Alert.objects.count(), AlertEvent.objects.count())
    demo.load()
    assert (Alert.objects.count(), AlertEvent.objects.count()) == before


def test_yesterdays_daily_bulletin_lists_the_demo_alerts(demo_city):
    demo.load()
    bulletin = Bulletin.objects.get(kind=BulletinKind.DAILY)
    section = next(s for s in bulletin.content["sections"] if s["template"] == "alerts/_bulletin.html")
    assert section["data"]["total"] == Alert.objects.count() == 4
    callers = [r for r in section["data"]["rows"] if r["detector"] == Detector.CALLER]
    assert all("****" in r["where"] and "13800009001" not in r["where"] for r in callers)
