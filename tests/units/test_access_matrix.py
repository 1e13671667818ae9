"""The access matrix: every page and every API operation, generated from the URL map and the
OpenAPI schema, tried by people who must not get in.

Each URL name is declared below with who may use it. A URL that is not declared fails
``test_it_declares_every_url``, so a new page or endpoint cannot ship without saying who may use
it. Then, on the demo city:

- anonymous visitors get the login page (HTML) or 401/403 (API) on everything that is not public;
- a station's handler and leader get 403/404 on every page and operation that names an object of
  another unit (GET and POST alike), and 403 on the pages of roles they do not hold;
- editing through the API cannot move an object to another unit or status.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from units.models import User

pytestmark = pytest.mark.django_db

PUBLIC = "public"  # citizens, platforms with their own keys, probes
STAFF = "staff"  # any logged-in user; what he sees is scoped to his units
ADMIN = "admin"  # administrators only
CENTER = "center"  # center staff (and administrators)
ANALYTICS = "analytics"  # center staff, supervisors, leaders, administrators


@dataclass(frozen=True)
class Page:
    """How a URL is guarded: its audience, and for object URLs, which kind of object it names."""

    access: str
    kind: str | None = None  # the object its <pk> names, see ``_objects``


# Every staff and public URL by name. Object pages carry the kind of object their pk names.
PAGES: dict[str, Page] = {
    "home": Page(STAFF),
    "login": Page(PUBLIC),
    "logout": Page(PUBLIC),
    "set_language": Page(PUBLIC),
    "javascript-catalog": Page(PUBLIC),
    "favicon": Page(PUBLIC),
    "healthz": Page(PUBLIC),
    "readyz": Page(PUBLIC),
    "units:list": Page(STAFF),
    "units:notifications": Page(STAFF),
    "units:notifications_read_all": Page(STAFF),
    "units:notification_go": Page(STAFF, "notification"),
    "units:saved_views": Page(STAFF),
    "units:saved_view": Page(STAFF, "saved_view"),  # one's own views only
    "intake:desk": Page(STAFF),
    "intake:bulk": Page(CENTER),
    "intake:export": Page(STAFF),
    "intake:hotline": Page(CENTER),
    "intake:caller_history": Page(CENTER),
    "intake:severity_preview": Page(CENTER),
    "intake:phone_reveals": Page(ADMIN),
    "intake:attachment": Page(STAFF, "attachment"),
    "intake:appeal": Page(STAFF, "appeal"),
    "intake:triage": Page(CENTER, "appeal"),
    "intake:close": Page(CENTER, "appeal"),
    "intake:merge": Page(CENTER, "appeal"),
    "intake:mark_for_dispatch": Page(CENTER, "appeal"),
    "intake:upload": Page(STAFF, "appeal"),
    "intake:reveal_phone": Page(STAFF, "appeal"),
    "intake:mailbox": Page(PUBLIC),
    "intake:mailbox_sent": Page(PUBLIC),
    "intake:track": Page(PUBLIC),
    "feeds:imports": Page(CENTER),
    "feeds:import-template": Page(CENTER),
    "feeds:imports-export": Page(CENTER),
    "feeds:deliveries-export": Page(CENTER),
    "feeds:batch": Page(CENTER, "batch"),
    "feeds:batch-errors": Page(CENTER, "batch"),
    "feeds:deliveries": Page(CENTER),
    "feeds:delivery": Page(CENTER, "delivery"),
    "feeds:delivery-retry": Page(CENTER, "delivery"),
    "feeds:demo-platform": Page(PUBLIC),
    # Open311 GeoReport v2: public reads; a POST needs a client's api_key (docs/open311.md).
    "feeds:open311-discovery": Page(PUBLIC),
    "feeds:open311-services": Page(PUBLIC),
    "feeds:open311-service": Page(PUBLIC),
    "feeds:open311-requests": Page(PUBLIC),
    "feeds:open311-request": Page(PUBLIC),
    "feeds:open311-token": Page(PUBLIC),
    "feeds:open311-not-found": Page(PUBLIC),
    "workorders:workspace": Page(STAFF),
    "workorders:bulk": Page(STAFF),  # sign/start for units, approve for the center; each row checked
    "workorders:reply": Page(CENTER, "order"),
    "workorders:review": Page(CENTER),
    "workorders:export": Page(STAFF),
    "workorders:review_export": Page(CENTER),
    "workorders:listed": Page(STAFF),
    "workorders:calendar": Page(STAFF),
    "workorders:dispatch": Page(CENTER, "appeal"),
    "workorders:triage_dispatch": Page(CENTER, "appeal"),
    "workorders:desk_bulk_dispatch": Page(CENTER),
    "workorders:attachment": Page(STAFF, "order_attachment"),
    "workorders:detail": Page(STAFF, "order"),
    "workorders:print_order": Page(STAFF, "order"),
    "workorders:print_supervision": Page(STAFF, "order"),
    "workorders:move": Page(STAFF, "order"),
    "surveys:overview": Page(STAFF),
    "surveys:rating_list": Page(STAFF),
    "surveys:rating_export": Page(STAFF),
    "surveys:record_list": Page(STAFF),
    "surveys:record_export": Page(STAFF),
    "surveys:record_import": Page(CENTER),
    "surveys:callback_desk": Page(STAFF),
    "surveys:callback_export": Page(STAFF),
    "surveys:callback_detail": Page(STAFF, "callback"),
    "surveys:callback_print": Page(STAFF, "callback"),
    "surveys:callback_reveal_phone": Page(STAFF, "callback"),
    "surveys:reviews": Page(CENTER),
    "sms:optouts": Page(CENTER),
    "surveys:phone_history": Page(CENTER),
    "surveys:rating_point_list": Page(STAFF),
    "surveys:rating_point_create": Page(STAFF),
    "surveys:rating_point_sheet": Page(STAFF),
    "surveys:rating_point_detail": Page(STAFF, "rating_point"),
    "surveys:rating_point_edit": Page(STAFF, "rating_point"),
    "surveys:rating_point_rotate": Page(STAFF, "rating_point"),
    "surveys:qr_form": Page(PUBLIC),
    "surveys:qr_thanks": Page(PUBLIC),
    "surveys:survey_list": Page(CENTER),
    "surveys:survey_detail": Page(CENTER, "survey"),
    "surveys:survey_form": Page(PUBLIC),
    "sms:outbox": Page(CENTER),
    "sms:outbox_export": Page(CENTER),
    "sms:requeue": Page(CENTER, "sms"),
    "sms:simulator": Page(ADMIN),
    "sms:twilio_inbound": Page(PUBLIC),
    "sms:twilio_status": Page(PUBLIC),
    # provider callbacks: a secret token in the path and the provider's source addresses
    "sms:aliyun_report": Page(PUBLIC),
    "sms:aliyun_reply": Page(PUBLIC),
    "sms:tencent_report": Page(PUBLIC),
    "sms:tencent_reply": Page(PUBLIC),
    "analytics:dashboard": Page(ANALYTICS),
    "analytics:rankings": Page(ANALYTICS),
    "analytics:ranking_compute": Page(CENTER),
    "analytics:ranking": Page(ANALYTICS, "ranking"),
    "analytics:ranking_publish": Page(CENTER, "ranking"),
    "analytics:bulletins": Page(ANALYTICS),
    "analytics:bulletin_generate": Page(CENTER),
    "analytics:bulletin": Page(ANALYTICS, "bulletin"),
    "analytics:bulletin_print": Page(ANALYTICS, "bulletin"),
    "analytics:bulletin_excel": Page(ANALYTICS, "bulletin"),
    "analytics:bulletin_pdf": Page(ANALYTICS, "bulletin"),
    "alerts:list": Page(ANALYTICS),
    "alerts:detail": Page(ANALYTICS, "alert"),
    "alerts:move": Page(ANALYTICS, "alert"),
    "routing:overview": Page(CENTER),
    "routing:train": Page(ADMIN),
    "routing:auto_settings": Page(ADMIN),
    "api-token": Page(PUBLIC),
    "schema": Page(PUBLIC),  # the API's description, no data
    "api-docs": Page(PUBLIC),
}

# API collections by the first segment of their path, and the object kind their {id} names.
API_KINDS: dict[str, str | None] = {
    "appeals": "appeal",
    "work-orders": "order",
    "units": None,  # the unit tree itself is visible to all staff
    "saved-views": "saved_view",  # one's own views only
    "phone-reveals": None,
    "result-deliveries": "delivery",
    "import-batches": "batch",
    "service-records": "record",
    "evaluations": "evaluation",
    "ratings": "rating",
    "callbacks": "callback",
    "rating-points": "rating_point",
    "surveys": "survey",
    "metrics": None,
    "rankings": "ranking",
    "bulletins": "bulletin",
    "alerts": "alert",
    "feeds": None,  # pushes authenticate with the platform's key, not a user
    "auth": None,
    "me": None,
}

PUBLIC_API = {"/api/v1/auth/token/"}
KEYED_API = re.compile(r"^/api/v1/feeds/")
# Paths the URL walk skips: Django's admin (guarded by is_staff and its own tests), static files.
SKIP_PREFIXES = ("admin/", "static/", "media/")
REFUSED = {403, 404, 405}


def _walk(resolver: URLResolver, prefix: str = "", namespace: str | None = None):
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            ns = namespace
            if pattern.namespace:
                ns = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            yield from _walk(pattern, prefix + str(pattern.pattern), ns)
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}:{pattern.name}" if namespace and pattern.name else pattern.name
            yield prefix + str(pattern.pattern), name, pattern


def _html_urls():
    """(route, name, pattern) of every staff and public page: everything but the API and the admin."""
    for route, name, pattern in _walk(get_resolver()):
        if route.startswith(("api/v1/", "^")) or route.startswith(SKIP_PREFIXES):
            continue
        yield route, name, pattern


def _api_operations():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path, operations in schema["paths"].items():
        for method in operations:
            if method in {"get", "post", "put", "patch", "delete"}:
                yield path, method


def test_it_declares_every_url():
    undeclared = sorted({name or route for route, name, _ in _html_urls() if name not in PAGES})
    undeclared = [u for u in undeclared if u not in ("healthz/", "readyz/")]  # unnamed aliases of the probes
    assert not undeclared, f"declare who may use these pages in {__file__}: {undeclared}"
    for path, _method in _api_operations():
        segment = path.removeprefix("/api/v1/").split("/")[0]
        assert segment in API_KINDS, f"declare the object kind of /api/v1/{segment}/ in {__file__}"


def test_it_serves_no_uploaded_file_outside_its_guarded_view(settings):
    """Uploads (import files with citizens' phones, attachments) are only reachable through views
    that check visibility; a raw media URL must not exist, even in development."""
    import importlib

    from django.urls import clear_url_caches

    import opinion_center.urls

    settings.DEBUG = True
    try:
        module = importlib.reload(opinion_center.urls)
        routes = [str(p.pattern) for p in module.urlpatterns]
    finally:
        settings.DEBUG = False
        importlib.reload(opinion_center.urls)
        clear_url_caches()
    assert not [r for r in routes if "media" in r], routes


# --------------------------------------------------------------------------------------------
# The objects of the demo city that the intruders must not reach.


@pytest.fixture(scope="module")
def _demo_loaded(django_db_setup, django_db_blocker, tmp_path_factory):
    """The whole demo, as ``make run`` loads it (each app's demo module, in app order), once for
    the module inside a transaction that is rolled back at its end; each test runs in a savepoint."""
    from importlib import import_module

    from django.apps import apps
    from django.core.cache import cache
    from django.db import transaction
    from django.test import override_settings

    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=str(tmp_path_factory.mktemp("media"))):
        with transaction.atomic():
            cache.clear()  # the demo's QR ratings go through the public rate limits
            for config in apps.get_app_configs():
                try:
                    module = import_module(f"{config.name}.demo")
                except ModuleNotFoundError:
                    continue
                module.load()
            _draft_ranking()
            yield
            transaction.set_rollback(True)


def _draft_ranking():
    """A list still being prepared (the demo publishes its lists): leaders must not read it."""
    import datetime as dt

    from analytics import services
    from analytics.periods import previous_month

    month = previous_month(previous_month(dt.date.today()).first).first
    services.compute_ranking(month=month, tier=services.RANKED_TIERS[0], min_sample=1)


@pytest.fixture
def demo_city(_demo_loaded, db):
    from units.models import Unit

    return Unit.objects.get(code="LJ000")


def _other_unit_object(model, intruder: User, **filters):
    """An object of ``model`` that ``intruder`` must not see (its visible_to excludes it)."""
    qs = model.objects.filter(**filters)
    hidden = qs.exclude(pk__in=model.objects.visible_to(intruder).values("pk")).order_by("-pk").first()
    assert hidden is not None, f"the demo has no {model.__name__} hidden from {intruder}"
    return hidden


# Kinds every member of staff who holds the page's role may read, whatever his unit: bulletins are
# the bureau's circulars. Their pages are still refused to users without the role.
SHARED_KINDS = {"bulletin"}


def _objects(intruder: User) -> dict[str, int]:
    """For each object kind, the pk of one that belongs to a unit the intruder does not see."""
    from analytics.models import Bulletin, Ranking
    from feeds.models import ImportBatch, ResultDelivery
    from intake.models import Appeal
    from sms.models import OutboundSms
    from surveys.models import Callback, Rating, RatingPoint, ServiceRecord, Survey
    from workorders.models import WorkOrder

    appeal = _other_unit_object(Appeal, intruder)
    order = _other_unit_object(WorkOrder, intruder)
    found = {
        "appeal": appeal.pk,
        "order": order.pk,
        "callback": _other_unit_object(Callback, intruder).pk,
        "record": _other_unit_object(ServiceRecord, intruder).pk,
        "evaluation": _other_unit_object(OutboundSms, intruder, purpose="evaluation").pk,
        "rating": _other_unit_object(Rating, intruder).pk,
        "rating_point": _other_unit_object(RatingPoint, intruder).pk,
        "survey": _other_unit_object(Survey, intruder).pk,
        "ranking": _other_unit_object(Ranking, intruder).pk,
        "sms": _other_unit_object(OutboundSms, intruder).pk,
        "batch": ImportBatch.objects.order_by("pk").values_list("pk", flat=True).first(),
        "delivery": ResultDelivery.objects.order_by("pk").values_list("pk", flat=True).first(),
        "bulletin": Bulletin.objects.order_by("pk").values_list("pk", flat=True).first(),
    }
    found["attachment"] = _attachment(appeal)
    found["notification"] = _others_notification(intruder)
    found["saved_view"] = _others_saved_view(intruder)
    found["order_attachment"] = _order_attachment(order)
    found["alert"] = _others_alert(intruder)
    missing = [kind for kind, pk in found.items() if pk is None]
    assert not missing, f"the demo has no object of kind {missing}"
    return found


def _others_alert(intruder: User) -> int:
    """An alert of a unit the intruder does not see (made here: the demo's own alerts may all be
    within his units or have no unit)."""
    from alerts.models import Alert
    from units.models import Unit
    from units.visibility import visible_unit_ids

    unit = Unit.objects.exclude(pk__in=visible_unit_ids(intruder)).exclude(parent=None).order_by("pk").first()
    return Alert.objects.create(detector="surge", key="access-matrix|-", title="他单位的预警", unit=unit).pk


def _others_notification(intruder: User) -> int:
    from units.models import Notification

    someone = User.objects.filter(is_active=True).exclude(pk=intruder.pk).order_by("pk").first()
    return Notification.objects.create(user=someone, text="新工单待签收", url="/workorders/").pk


def _others_saved_view(intruder: User) -> int:
    from units.models import SavedView

    someone = User.objects.filter(is_active=True).exclude(pk=intruder.pk).order_by("pk").first()
    return SavedView.objects.create(user=someone, list_name="desk", name="红色未派", query="severity=red").pk


def _attachment(appeal) -> int:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from intake import services

    upload = SimpleUploadedFile("现场.jpg", b"\xff\xd8\xff\xe0fake-jpeg", content_type="image/jpeg")
    return services.add_attachment(appeal, upload=upload).pk


def _order_attachment(order) -> int:
    from django.core.files.base import ContentFile

    from workorders.models import FeedbackAttachment

    attachment = FeedbackAttachment(order=order, name="反馈.jpg")
    attachment.file.save("反馈.jpg", ContentFile(b"\xff\xd8\xff\xe0fake-jpeg"), save=False)
    attachment.save()
    return attachment.pk


def _fill(route: str, pattern: URLPattern, objects: dict[str, int], kind: str | None) -> str:
    """The concrete path of a route: <pk> is the object of the declared kind, other parts plausible."""
    path = route
    for converter in re.findall(r"<[^>]+>", route):
        name = converter.strip("<>").split(":")[-1]
        if name in {"pk", "appeal_pk"}:
            value = str(objects[kind])
        elif name == "name":
            value = "sign"
        elif name == "box":
            value = "mayor"
        else:
            value = "x"
        path = path.replace(converter, value, 1)
    return "/" + path


def _roles_of(user: User, access: str) -> bool:
    from units.choices import Role

    if access in (PUBLIC, STAFF):
        return True
    if access == ADMIN:
        return user.has_role(Role.ADMIN)
    if access == CENTER:
        return user.has_role(Role.CENTER_STAFF, Role.ADMIN)
    if access == ANALYTICS:
        return user.has_role(Role.CENTER_STAFF, Role.SUPERVISOR, Role.UNIT_LEADER, Role.ADMIN)
    raise AssertionError(access)


def test_it_refuses_every_page_to_anonymous_visitors(demo_city, client):
    objects = _objects(User.objects.get(username="handler2"))
    leaks = []
    for route, name, pattern in _html_urls():
        page = PAGES.get(name)
        if page is None or page.access == PUBLIC:
            continue
        path = _fill(route, pattern, objects, page.kind)
        for method in ("get", "post"):
            response = getattr(client, method)(path)
            if response.status_code in REFUSED | {401}:
                continue
            if response.status_code == 302 and "/login/" in response["Location"]:
                continue
            leaks.append(f"{method.upper()} {path} ({name}) → {response.status_code}")
    assert not leaks, "\n".join(leaks)


@pytest.mark.parametrize("username", ["handler2", "leader"])
def test_it_refuses_other_units_objects_and_other_roles_pages(demo_city, client, username):
    """A station's handler or leader reaches no object of another unit and no page of another role."""
    intruder = User.objects.get(username=username)
    objects = _objects(intruder)
    client.force_login(intruder)
    leaks = []
    for route, name, pattern in _html_urls():
        page = PAGES.get(name)
        if page is None or page.access == PUBLIC:
            continue
        if (page.kind is None or page.kind in SHARED_KINDS) and _roles_of(intruder, page.access):
            continue  # his own lists: scoping of their rows is tested per app
        path = _fill(route, pattern, objects, page.kind)
        for method in ("get", "post"):
            response = getattr(client, method)(path)
            if response.status_code not in REFUSED:
                leaks.append(f"{method.upper()} {path} ({name}, {page.kind}) → {response.status_code}")
    assert not leaks, "\n".join(leaks)


def _api_path(path: str, objects: dict[str, int]) -> str | None:
    segment = path.removeprefix("/api/v1/").split("/")[0]
    kind = API_KINDS[segment]
    if "{" not in path:
        return path
    if kind is None:
        return None
    return re.sub(r"\{[^}]+\}", str(objects[kind]), path)


def test_it_refuses_every_api_operation_to_anonymous_callers(demo_city):
    api = APIClient()
    objects = _objects(User.objects.get(username="handler2"))
    leaks = []
    for path, method in _api_operations():
        if path in PUBLIC_API:
            continue
        concrete = _api_path(path, objects) or re.sub(r"\{[^}]+\}", "1", path)
        response = getattr(api, method)(concrete, {}, format="json")
        if response.status_code not in {401, 403}:
            leaks.append(f"{method.upper()} {concrete} → {response.status_code}")
    assert not leaks, "\n".join(leaks)


@pytest.mark.parametrize("username", ["handler2", "leader"])
def test_it_refuses_other_units_objects_through_the_api(demo_city, username):
    intruder = User.objects.get(username=username)
    objects = _objects(intruder)
    api = APIClient()
    api.force_authenticate(user=intruder)
    leaks = []
    for path, method in _api_operations():
        if "{" not in path or KEYED_API.match(path):
            continue
        concrete = _api_path(path, objects)
        segment = path.removeprefix("/api/v1/").split("/")[0]
        if concrete is None or API_KINDS[segment] in SHARED_KINDS:
            continue
        response = getattr(api, method)(concrete, {}, format="json")
        if response.status_code not in REFUSED:
            leaks.append(f"{method.upper()} {concrete} → {response.status_code}")
    assert not leaks, "\n".join(leaks)


def test_it_ignores_or_refuses_field_escalation_through_the_api(demo_city):
    """A handler who may edit his unit's rating point cannot move it to another unit; nobody moves
    an appeal's or an order's unit or status by PATCH (transitions are POST actions)."""
    from intake.models import Appeal
    from surveys.models import RatingPoint
    from workorders.models import WorkOrder

    handler = User.objects.get(username="handler")
    other_unit = User.objects.get(username="handler2").unit
    api = APIClient()
    api.force_authenticate(user=handler)

    point = RatingPoint.objects.visible_to(handler).order_by("pk").first()
    response = api.patch(f"/api/v1/rating-points/{point.pk}/", {"unit": other_unit.pk}, format="json")
    point.refresh_from_db()
    assert point.unit_id != other_unit.pk, response.status_code

    order = WorkOrder.objects.visible_to(handler).order_by("pk").first()
    before = (order.unit_id, order.status)
    for method in ("patch", "put"):
        response = getattr(api, method)(
            f"/api/v1/work-orders/{order.pk}/", {"unit": other_unit.pk, "status": "closed"}, format="json"
        )
        assert response.status_code in {403, 405}, response.status_code
    order.refresh_from_db()
    assert (order.unit_id, order.status) == before

    appeal = Appeal.objects.visible_to(handler).order_by("pk").first()
    before = (appeal.status, appeal.severity)
    for method in ("patch", "put"):
        response = getattr(api, method)(
            f"/api/v1/appeals/{appeal.pk}/", {"status": "closed", "severity": "green"}, format="json"
        )
        assert response.status_code in {403, 405}, response.status_code
    appeal.refresh_from_db()
    assert (appeal.status, appeal.severity) == before


JUNK = {
    "page": "abc",
    "cursor": "!!not-a-cursor",
    "status": "no-such-status",
    "tab": "nope",
    "unit": "x",
    "category": "-1",
    "channel": "fax",
    "severity": "purple",
    "level": "huge",
    "date_from": "2026-13-45",
    "date_to": "yesterday",
    "received_from": "0",
    "period": "forever",
    "month": "2026-99",
    "q": "\x00",
    "open": "NaN",
    "back": "//evil.example/",
}


def test_no_page_answers_500_to_junk_query_parameters(demo_city, client):
    """Every staff page, list or object, answers junk query values with a page, a 400 or a 404."""
    center = User.objects.get(username="center")
    objects = _objects(User.objects.get(username="handler2"))
    client.force_login(center)
    client.raise_request_exception = False
    broken = []
    for route, name, pattern in _html_urls():
        page = PAGES.get(name)
        if page is None or page.access == PUBLIC and name not in {"intake:track"}:
            continue
        path = _fill(route, pattern, objects, page.kind)
        response = client.get(path, JUNK)
        if response.status_code >= 500:
            broken.append(f"GET {path}?… ({name}) → {response.status_code}")
    assert not broken, "\n".join(broken)
