"""Demo data of the analytics app, computed from the other apps' demo data (which loads first):
last month's red/black lists, published; daily summaries of the last week, the weekly analyses of
the last four weeks and last month's bulletin. Idempotent: a second run changes nothing."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from units.models import User

from . import services
from .choices import BulletinKind
from .models import Ranking
from .periods import previous_month

# The demo city is small: a month gives a station a handful of ratings and work orders.
DEMO_MIN_SAMPLE = 3
# Days back the demo data reaches (the other apps spread it over the last two months; orders are
# due up to a month ahead).
DEMO_DAYS = 200


def load(stdout=None) -> None:
    supervisor = User.objects.filter(username="supervisor").first()
    today = timezone.localdate()
    month = previous_month(today).first
    # The other apps' demo loaders backdate rows with QuerySet.update (no model signal): the daily
    # aggregates of the demo's span are rebuilt from the source rows once, like after a restore.
    services.rebuild_aggregates(first=today - dt.timedelta(days=DEMO_DAYS), until=today + dt.timedelta(days=31))
    for tier in services.RANKED_TIERS:
        ranking = Ranking.objects.filter(month=month, tier=tier).first()
        if ranking is None or not ranking.is_published:
            ranking = services.compute_ranking(month=month, tier=tier, min_sample=DEMO_MIN_SAMPLE)
            services.publish_ranking(ranking, actor=supervisor)
    made = 0
    for back in range(1, 8):
        made += services.generate_bulletin(kind=BulletinKind.DAILY, on=today - dt.timedelta(days=back))[1]
    last_sunday = today - dt.timedelta(days=today.weekday() + 1)
    for weeks in range(4):
        made += services.generate_bulletin(kind=BulletinKind.WEEKLY, on=last_sunday - dt.timedelta(weeks=weeks))[1]
    made += services.generate_bulletin(kind=BulletinKind.MONTHLY, on=month)[1]
    if stdout:
        stdout.write(f"analytics: rankings of {month:%Y-%m} published, {made} new bulletins")
