"""Audit rows — the reveal log, the timelines of appeals, work orders, callbacks, surveys and
rankings, login lockouts — cannot be changed or deleted through the application: the admin gives
no add/change/delete permission even to a superuser, no URL of the API writes them, and a row
already saved refuses ``save()`` and ``delete()``."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib import admin
from django.test import RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from analytics.models import RankingEvent
from intake.models import AppealEvent, PhoneReveal
from surveys.models import CallbackEvent, SurveyEvent
from units.models import LoginLockout
from workorders.models import WorkOrderEvent

pytestmark = pytest.mark.django_db

TIMELINES = [AppealEvent, WorkOrderEvent, CallbackEvent, SurveyEvent, RankingEvent]
AUDIT_MODELS = [PhoneReveal, LoginLockout, *TIMELINES]


def admins_of(model):
    """The ModelAdmin registered for ``model`` and every inline of any admin that edits it."""
    found = []
    for parent_model, model_admin in admin.site._registry.items():
        if parent_model is model:
            found.append(("admin", model_admin))
        for inline_class in model_admin.inlines:
            if inline_class.model is model:
                found.append(("inline", inline_class(parent_model, admin.site)))
    return found


@pytest.mark.parametrize("model", AUDIT_MODELS, ids=lambda m: m.__name__)
def test_the_admin_gives_a_superuser_no_way_to_write_an_audit_row(model, administrator):
    administrator.is_superuser = administrator.is_staff = True
    administrator.save()
    request = RequestFactory().get("/admin/")
    request.user = administrator
    for kind, model_admin in admins_of(model):
        where = f"{kind} {type(model_admin).__name__}"
        if kind == "admin":
            assert not model_admin.has_add_permission(request), where
        else:
            assert not model_admin.has_add_permission(request, None), where
        assert not model_admin.has_change_permission(request), where
        assert not model_admin.has_delete_permission(request), where
        if kind == "admin":
            assert "delete_selected" not in model_admin.get_actions(request), where


def test_the_admin_still_lets_an_administrator_release_a_lockout(client, administrator):
    """Releasing a lock early is the one write, done by the service, and recorded in the row."""

    lockout = LoginLockout.objects.create(
        scope="account", key="someone", failures=5, locked_until=timezone.now() + dt.timedelta(minutes=30)
    )
    administrator.is_superuser = administrator.is_staff = True
    administrator.save()
    client.force_login(administrator)
    base = "/admin/units/loginlockout/"
    assert client.post(f"{base}{lockout.pk}/change/", {"key": "other"}).status_code == 403
    client.post(base, {"action": "unlock", "_selected_action": [lockout.pk]})
    lockout.refresh_from_db()
    assert lockout.unlocked_by == administrator and lockout.key == "someone"


def _api_routes(patterns=None, prefix=""):
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            yield from _api_routes(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.callback


def _model_of(view_class):
    queryset = getattr(view_class, "queryset", None)
    if queryset is not None:
        return queryset.model
    serializer = getattr(view_class, "serializer_class", None)
    meta = getattr(serializer, "Meta", None)
    return getattr(meta, "model", None)


def test_no_url_writes_an_audit_row():
    checked = []
    for route, callback in _api_routes():
        view_class = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
        if view_class is None or _model_of(view_class) not in AUDIT_MODELS:
            continue
        actions = getattr(callback, "actions", None)
        if actions is not None:
            methods = set(actions)
        else:
            methods = {m for m in getattr(view_class, "http_method_names", []) if hasattr(view_class, m)}
        assert methods <= {"get", "head", "options"}, (route, methods)
        checked.append(route)
    assert any("phone-reveals" in r for r in checked)


def test_the_reveal_log_api_refuses_writes(api, administrator, center, flow):
    from intake import services

    services.reveal_phone(flow.appeals["hotline"], actor=center, reason="核实")
    row = PhoneReveal.objects.get()
    client = api.as_user(administrator)
    for method in ("put", "patch", "delete"):
        response = getattr(client, method)(f"/api/v1/phone-reveals/{row.pk}/", {"reason": "改"}, format="json")
        assert response.status_code in (404, 405), method
    assert PhoneReveal.objects.get().reason == "核实"


def test_a_saved_timeline_row_refuses_save_and_delete(flow, center):
    from analytics import services as analytics
    from surveys.services.polls import open_survey

    open_survey(flow.survey, actor=center)
    analytics.compute_ranking(month=dt.date(2026, 10, 1), tier="station", actor=center)
    rows = [
        AppealEvent.objects.filter(appeal=flow.appeals["hotline"]).first(),
        WorkOrderEvent.objects.filter(order=flow.order).first(),
        CallbackEvent.objects.filter(callback=flow.callback).first(),
        SurveyEvent.objects.filter(survey=flow.survey).first(),
        RankingEvent.objects.first(),
    ]
    assert all(rows), rows
    for row in rows:
        row.note = "改掉"
        with pytest.raises(PermissionError):
            row.save()
        with pytest.raises(PermissionError):
            row.delete()
        row.refresh_from_db()
        assert row.note != "改掉"
