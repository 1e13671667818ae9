"""Open311 GeoReport v2 at /open311/v2/, checked the way a client that speaks the published
specification sees it: the spec's request and response shapes (wiki.open311.org/GeoReport_v2),
both formats carrying the same content, the spec's error bodies and statuses, a posted request
showing up in the public list with its status and reply, and no personal data in any answer."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
import requests
from django.test import Client
from django.utils import timezone

from feeds.choices import FeedKind
from feeds.models import FeedSource, Open311Request
from intake import demo as intake_demo
from intake.choices import Channel
from intake.models import Appeal
from intake.phones import normalize_phone
from intake.services import close_appeal
from tests.helpers import stored_column
from units.models import Unit, User

API_KEY = "open311-test-client-key"
JURISDICTION = "linjiang.police.gov.cn"

# The fields the spec lists for each record (GeoReport v2: GET Service List, GET Service
# Request(s), POST Service Request, GET request_id from a token).
SERVICE_FIELDS = {"service_code", "service_name", "description", "metadata", "type", "keywords", "group"}
REQUEST_FIELDS = {
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
}

CITIZEN = {
    "first_name": "建国",
    "last_name": "欧阳",
    "email": "ouyang.jianguo@example.com",
    "phone": "13800007311",
}


class GeoReportClient:
    """A small GeoReport v2 client written from the specification: resources are
    ``<endpoint>/<resource>.<format>``, ``jurisdiction_id`` rides on every call, POST is a form."""

    def __init__(self, get, post, *, endpoint="/open311/v2", jurisdiction_id=JURISDICTION, api_key=API_KEY):
        self._get, self._post = get, post
        self.endpoint, self.jurisdiction_id, self.api_key = endpoint, jurisdiction_id, api_key

    def _params(self, params):
        return {"jurisdiction_id": self.jurisdiction_id, **params} if self.jurisdiction_id else dict(params)

    def get(self, resource, fmt="json", **params):
        return self._get(f"{self.endpoint}/{resource}.{fmt}", self._params(params))

    def post_request(self, fmt="json", **fields):
        return self._post(f"{self.endpoint}/requests.{fmt}", self._params({"api_key": self.api_key, **fields}))


def _django_client() -> GeoReportClient:
    client = Client()
    return GeoReportClient(lambda url, params: client.get(url, params), lambda url, data: client.post(url, data))


def body(response):
    """The JSON answer (Django test response or requests response alike)."""
    return json.loads(response.content)


def xml_records(response) -> tuple[str, list[dict]]:
    """The XML answer as (root tag, [record as {tag: text}]), for comparison with the JSON."""
    assert response["Content-Type"].startswith("text/xml")
    root = ET.fromstring(response.content)
    return root.tag, [{child.tag: child.text for child in record} for record in root]


def json_as_xml_text(record: dict) -> dict:
    """What XML can say of a JSON record: every value as text, None as an empty element."""

    def text(value):
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    return {key: text(value) for key, value in record.items()}


@pytest.fixture
def open311_client(city) -> FeedSource:
    intake_demo.load_categories()
    source = FeedSource(code="city-app", name="城市服务App", kind=FeedKind.OPEN311, channel=Channel.MESSAGE_BOARD)
    source.set_key(API_KEY)
    source.save()
    return source


@pytest.fixture
def geo(open311_client) -> GeoReportClient:
    return _django_client()


def _post_noise_report(geo, **overrides):
    fields = {
        "service_code": "ORDER-NOISE",
        "lat": "30.274085",
        "long": "120.155070",
        "address_string": "临江市滨江区江南大道100号",
        "description": "凌晨两点小区楼下烧烤店音响声音很大，已持续一周。",
        **CITIZEN,
    }
    fields.update(overrides)
    return geo.post_request(**fields)


def test_the_service_list_has_the_spec_fields_in_both_formats(geo):
    response = geo.get("services")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    services = body(response)
    assert services, "the demo categories are offered as services"
    assert all(set(service) == SERVICE_FIELDS for service in services)
    noise = next(s for s in services if s["service_code"] == "ORDER-NOISE")
    assert noise["service_name"] == "噪音扰民"
    assert noise["metadata"] is False and noise["type"] == "realtime"
    assert noise["group"] == "治安管理"
    # Parents with children are groups, not services.
    assert "ORDER" not in {s["service_code"] for s in services}

    root, records = xml_records(geo.get("services", fmt="xml"))
    assert root == "services"
    assert records == [json_as_xml_text(s) for s in services]


def test_the_discovery_file_names_the_v2_endpoint_in_both_formats(geo):
    found = body(Client().get("/open311/discovery.json"))
    assert set(found) == {"changeset", "contact", "key_service", "endpoints"}
    [endpoint] = found["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"].endswith("/open311/v2")
    assert endpoint["formats"] == ["text/xml", "application/json"]
    root = ET.fromstring(Client().get("/open311/discovery.xml").content)
    assert root.tag == "discovery"
    assert [f.text for f in root.find("endpoints").find("endpoint").find("formats")] == endpoint["formats"]


def test_a_service_definition_has_an_empty_attribute_list(geo):
    response = geo.get("services/ORDER-NOISE")
    assert response.status_code == 200
    assert body(response) == {"service_code": "ORDER-NOISE", "attributes": []}
    root = ET.fromstring(geo.get("services/ORDER-NOISE", fmt="xml").content)
    assert root.tag == "service_definition"
    assert root.findtext("service_code") == "ORDER-NOISE"
    assert root.find("attributes") is not None and len(root.find("attributes")) == 0
    missing = geo.get("services/NO-SUCH-SERVICE")
    assert missing.status_code == 404
    assert body(missing)[0]["code"] == 404


def test_errors_have_the_spec_body_and_status(geo, open311_client):
    # Unknown jurisdiction: 404 on every call.
    other = GeoReportClient(geo._get, geo._post, jurisdiction_id="elsewhere.example")
    for response in (other.get("services"), other.get("requests"), _post_noise_report(other)):
        assert response.status_code == 404
        [error] = body(response)
        assert error["code"] == 404 and "jurisdiction_id" in error["description"]
    # No key, a wrong key, a key of another kind of source: 403.
    pusher = FeedSource(code="12345", name="12345", kind=FeedKind.APPEALS, channel=Channel.FEED_12345)
    pusher.set_key("a-12345-push-key")
    pusher.save()
    for key in ("", "wrong-key", "a-12345-push-key"):
        response = _post_noise_report(GeoReportClient(geo._get, geo._post, api_key=key))
        assert response.status_code == 403, key
        assert body(response)[0]["code"] == 403
    # Missing or unknown service_code, no location, bad coordinates: 400.
    for overrides in (
        {"service_code": ""},
        {"service_code": "NOPE"},
        {"lat": "", "long": "", "address_string": ""},
        {"lat": "91", "long": "120"},
        {"lat": "abc", "long": "120"},
        {"lat": "30.1", "long": ""},
    ):
        response = _post_noise_report(geo, **overrides)
        assert response.status_code == 400, overrides
        assert body(response)[0]["code"] == 400
    # The XML form of an error.
    response = _post_noise_report(geo, fmt="xml", service_code="NOPE")
    assert response.status_code == 400
    root = ET.fromstring(response.content)
    assert root.tag == "errors"
    assert root.find("error").findtext("code") == "400"
    assert "NOPE" in root.find("error").findtext("description")
    assert not Appeal.objects.exists()


def test_hostile_and_overlong_input_is_refused_with_400(geo):
    for overrides in (
        {"description": "噪音\x00扰民"},
        {"description": "噪音\x1b[31m扰民"},
        {"first_name": "\ufffd"},
        {"description": "吵" * 3001},
        {"address_string": "路" * 201},
        {"phone": "1" * 41},
        {"phone": "12345"},
    ):
        response = _post_noise_report(geo, **overrides)
        assert response.status_code == 400, overrides
        assert body(response)[0]["code"] == 400
    assert not Appeal.objects.exists()


def test_a_posted_request_becomes_an_appeal_and_is_listed_with_its_public_status(geo, open311_client):
    response = _post_noise_report(geo)
    assert response.status_code == 201
    [answer] = body(response)
    assert set(answer) >= {"service_request_id", "service_notice", "account_id"}
    assert answer["account_id"] is None
    code = answer["service_request_id"]

    appeal = Appeal.objects.get(tracking_code=code)
    assert appeal.channel == Channel.MESSAGE_BOARD
    assert appeal.category.code == "ORDER-NOISE"
    assert appeal.citizen_name == "欧阳建国"
    assert appeal.citizen_phone == normalize_phone(CITIZEN["phone"])
    assert appeal.open311.client == open311_client
    # The phone is stored encrypted, like every phone.
    assert CITIZEN["phone"] not in stored_column(appeal, "citizen_phone")

    # The token stands for the same request.
    token = geo.get(f"tokens/{answer['token']}")
    assert token.status_code == 200
    assert body(token) == [{"service_request_id": code, "token": answer["token"]}]
    assert geo.get("tokens/0000").status_code == 404

    listed = body(geo.get("requests"))
    [record] = [r for r in listed if r["service_request_id"] == code]
    assert set(record) == REQUEST_FIELDS
    assert record["status"] == "open"
    assert record["service_code"] == "ORDER-NOISE" and record["service_name"] == "噪音扰民"
    assert record["lat"] == pytest.approx(30.274085) and record["long"] == pytest.approx(120.15507)
    assert record["address"] == "临江市滨江区江南大道100号"
    assert record["requested_datetime"].endswith("+08:00")
    assert record["agency_responsible"] is None

    # Dispatched to a station and closed with a public reply: the list says so.
    from workorders.services import dispatch_appeal

    station = Unit.objects.get(name="滨江派出所")
    dispatch_appeal(appeal, unit=station, actor=User.objects.get(username="center"))
    close_appeal(appeal, actor=User.objects.get(username="center"), reply="民警已到场责令店主整改，音响已移除。")
    [detail] = body(geo.get(f"requests/{code}"))
    assert detail["status"] == "closed"
    assert detail["status_notes"] == "民警已到场责令店主整改，音响已移除。"
    assert detail["agency_responsible"] == "滨江派出所"
    assert [r["service_request_id"] for r in body(geo.get("requests", status="closed"))] == [code]
    assert body(geo.get("requests", status="open")) == []
    assert body(geo.get("requests", service_request_id=f"{code},NOSUCH1")) == [detail]

    # XML carries the same content.
    root, records = xml_records(geo.get(f"requests/{code}", fmt="xml"))
    assert root == "service_requests"
    assert records == [json_as_xml_text(detail)]


def test_no_personal_data_appears_in_any_get_answer(geo):
    code = body(
        _post_noise_report(geo, description="楼下噪音，请回电 138 0000 7311 或发邮件 ouyang.jianguo@example.com")
    )[0]["service_request_id"]
    appeal = Appeal.objects.get(tracking_code=code)
    close_appeal(appeal, actor=None, reply="已处理，欧阳先生如有疑问请拨打 13800007311。")
    answers = [
        geo.get(resource, fmt=fmt)
        for resource in ("requests", f"requests/{code}", "services")
        for fmt in ("json", "xml")
    ]
    forbidden = [
        CITIZEN["first_name"],
        "欧阳建国",
        CITIZEN["email"],
        CITIZEN["phone"],
        "138 0000 7311",
        "7311",
        normalize_phone(CITIZEN["phone"]),
    ]
    for answer in answers:
        text = answer.content.decode()
        for value in forbidden:
            assert value not in text, (value, answer.request["PATH_INFO"])
    # ...while the matter itself is public.
    assert "楼下噪音" in answers[0].content.decode()


def test_only_appeals_filed_through_open311_are_public(geo):
    from intake.services import create_appeal

    hotline, _ = create_appeal(channel=Channel.HOTLINE, content="热线来电：邻居噪音", citizen_phone="13800007312")
    board, _ = create_appeal(channel=Channel.MESSAGE_BOARD, content="留言板：噪音", citizen_phone="13800007313")
    assert body(geo.get("requests")) == []
    assert geo.get(f"requests/{hotline.tracking_code}").status_code == 404
    assert geo.get(f"requests/{board.tracking_code}").status_code == 404
    assert body(geo.get("requests", service_request_id=f"{hotline.tracking_code},{board.tracking_code}")) == []


def test_date_filters_follow_the_spec_limits(geo):
    code = body(_post_noise_report(geo))[0]["service_request_id"]
    old = body(_post_noise_report(geo, phone="13800007314"))[0]["service_request_id"]
    Appeal.objects.filter(tracking_code=old).update(received_at=timezone.now() - timedelta(days=120))
    # Default: the last 90 days.
    assert [r["service_request_id"] for r in body(geo.get("requests"))] == [code]
    start = (timezone.now() - timedelta(days=130)).isoformat()
    end = (timezone.now() - timedelta(days=100)).isoformat()
    assert [r["service_request_id"] for r in body(geo.get("requests", start_date=start, end_date=end))] == [old]
    too_wide = geo.get("requests", start_date=start, end_date=timezone.now().isoformat())
    assert too_wide.status_code == 400 and body(too_wide)[0]["code"] == 400
    assert geo.get("requests", start_date="yesterday").status_code == 400
    assert geo.get("requests", status="pending").status_code == 400
    assert body(geo.get("requests", service_code="TRAFFIC-PARK")) == []
    assert len(body(geo.get("requests", service_code="TRAFFIC-PARK,ORDER-NOISE"))) == 1


def test_the_list_stops_at_1000(geo, open311_client):
    from intake.models import Category

    noise = Category.objects.get(code="ORDER-NOISE")
    now = timezone.now()
    appeals = Appeal.objects.bulk_create(
        Appeal(
            channel=Channel.MESSAGE_BOARD, content=f"噪音{i}", category=noise, received_at=now - timedelta(minutes=i)
        )
        for i in range(1005)
    )
    Open311Request.objects.bulk_create(
        Open311Request(appeal=a, client=open311_client, address_string="江南大道") for a in appeals
    )
    listed = body(geo.get("requests"))
    assert len(listed) == 1000
    assert listed[0]["service_request_id"] == appeals[0].tracking_code


def test_posts_are_limited_per_key_and_per_address(geo, settings):
    settings.OPEN311_PER_KEY_PER_HOUR = 2
    assert _post_noise_report(geo, phone="13800007321").status_code == 201
    assert _post_noise_report(geo, phone="13800007322").status_code == 201
    refused = _post_noise_report(geo, phone="13800007323")
    assert refused.status_code == 429 and body(refused)[0]["code"] == 429
    settings.OPEN311_PER_KEY_PER_HOUR = 600
    # The refused post was stopped by the key's counter; the address has two posts on it.
    settings.INTAKE_MAILBOX_PER_IP_PER_DAY = 2
    assert _post_noise_report(geo, phone="13800007324").status_code == 429
    assert Appeal.objects.count() == 2


def test_the_same_phone_is_limited_like_the_mailboxes(geo, settings):
    settings.INTAKE_MAILBOX_PER_PHONE_PER_DAY = 1
    assert _post_noise_report(geo).status_code == 201
    assert _post_noise_report(geo, phone="138-0000-7311").status_code == 429


@pytest.mark.django_db(transaction=True)
def test_a_spec_client_over_http(live_server, open311_client):
    """The same conversation over real HTTP with ``requests``: discover, post, poll the token, list."""
    session = requests.Session()
    geo = GeoReportClient(
        lambda url, params: session.get(live_server.url + url, params=params, timeout=10),
        lambda url, data: session.post(live_server.url + url, data=data, timeout=10),
    )
    services = geo.get("services").json()
    code = services[0]["service_code"]
    posted = geo.post_request(service_code=code, address_string="临江市江北区北湖路8号", description="路灯不亮")
    assert posted.status_code == 201
    [answer] = posted.json()
    assert geo.get(f"tokens/{answer['token']}").json()[0]["service_request_id"] == answer["service_request_id"]
    listed = geo.get("requests").json()
    assert [r["service_request_id"] for r in listed] == [answer["service_request_id"]]
    xml = geo.get("requests", fmt="xml")
    assert xml.headers["Content-Type"].startswith("text/xml")
    root = ET.fromstring(xml.content)
    assert root.find("request").findtext("service_request_id") == answer["service_request_id"]
    assert root.find("request").findtext("status") == "open"
    assert geo.get("nothing-here").status_code == 404
