"""The WSGI application of bench/intake.py: the project's own application, plus ``/bare/``.

``/bare/`` answers a minimal Django ``JsonResponse`` without middleware, views or database: the
floor of a request through the same gunicorn, workers and Python, against which the feed push
and the staff create are compared in the same run. Everything else goes to
``opinion_center.wsgi.application`` unchanged. With ``BENCH_FEED_RATE`` set (e.g. ``1000000/min``)
the per-source feed throttle is raised in this process only, to measure what the write path
itself can take; without it the shipped rate applies and refusals (429) are counted apart.
"""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opinion_center.settings")

from django.http import JsonResponse

from opinion_center.wsgi import application as project

if os.environ.get("BENCH_FEED_RATE"):
    from rest_framework.throttling import SimpleRateThrottle

    from feeds.auth import FeedSourceThrottle

    rates = dict(SimpleRateThrottle.THROTTLE_RATES, feed=os.environ["BENCH_FEED_RATE"])
    FeedSourceThrottle.THROTTLE_RATES = rates


def application(environ, start_response):
    if environ.get("PATH_INFO", "").startswith("/bare/"):
        response = JsonResponse({"ok": True})
        start_response(f"{response.status_code} {response.reason_phrase}", list(response.items()))
        return [response.content]
    return project(environ, start_response)
