"""Search finds callers: full number (keyed hash), last four digits, name, several words at once,
on the desk, in the appeals API, on the workspace and on the callback desk."""

import importlib

import pytest
from django.apps import apps as django_apps
from django.db import connection
from django.urls import reverse

from intake.models import Appeal

pytestmark = pytest.mark.django_db


@pytest.fixture
def callers(make_appeal):
    return {
        "wang": make_appeal(citizen_phone="13800007771", citizen_name="王小明", content="小区门口夜市烧烤噪音到凌晨"),
        "li": make_appeal(citizen_phone="13800008882", citizen_name="李四", content="夜市摊贩占道经营"),
        "zhao": make_appeal(citizen_phone="13900007771", citizen_name="赵六", content="楼下烧烤油烟呛人"),
    }


def found(client, q: str) -> set[str]:
    response = client.get(reverse("intake:desk"), {"status": "all", "q": q})
    assert response.status_code == 200
    return {a.tracking_code for a in response.context["appeals"]}


def codes(*appeals) -> set[str]:
    return {a.tracking_code for a in appeals}


def test_it_stores_the_last_four_digits_on_create_and_on_a_changed_number(callers):
    wang = callers["wang"]
    assert Appeal.objects.get(pk=wang.pk).citizen_phone_last4 == "7771"
    wang.citizen_phone = "+8613800001239"
    wang.save(update_fields=["citizen_phone"])
    assert Appeal.objects.get(pk=wang.pk).citizen_phone_last4 == "1239"


def test_the_desk_finds_a_caller_by_number_last_four_name_and_words(client, center, callers):
    client.force_login(center)
    wang, li, zhao = callers["wang"], callers["li"], callers["zhao"]
    assert found(client, "13800007771") == codes(wang)
    assert found(client, "138-0000-7771") == codes(wang)
    assert found(client, "+86 138 0000 7771") == codes(wang)
    assert found(client, "7771") == codes(wang, zhao)
    assert found(client, "王小明") == codes(wang)
    assert found(client, "夜市 烧烤") == codes(wang)
    assert found(client, "夜市") == codes(wang, li)
    assert found(client, "李四 占道") == codes(li)
    assert found(client, "夜市 不存在的词") == set()


def test_a_full_number_is_matched_by_its_keyed_hash_not_by_decrypting(callers):
    from intake.filters import search_condition

    condition = search_condition("13800007771")
    sql = str(Appeal.objects.filter(condition).query)
    where = sql.split(" WHERE ")[1]
    assert callers["wang"].citizen_phone_hash in where
    assert '"citizen_phone" ' not in where and "citizen_phone_last4" not in where


def test_the_api_finds_callers_the_same_way(api, center, callers):
    client = api.as_user(center)
    url = "/api/v1/appeals/"
    by_last4 = {row["tracking_code"] for row in client.get(url, {"q": "7771"}).json()["results"]}
    assert by_last4 == codes(callers["wang"], callers["zhao"])
    by_phone = {row["tracking_code"] for row in client.get(url, {"q": "13800008882"}).json()["results"]}
    assert by_phone == codes(callers["li"])
    by_words = {row["tracking_code"] for row in client.get(url, {"q": "夜市 烧烤"}).json()["results"]}
    assert by_words == codes(callers["wang"])


def test_a_unit_user_finds_only_what_he_sees(client, handler, callers):
    client.force_login(handler)
    assert found(client, "7771") == set()


def test_the_workspace_finds_orders_by_caller(client, center, callers, station):
    from workorders.services import dispatch_appeal

    for appeal in callers.values():
        dispatch_appeal(appeal, unit=station, actor=center)
    client.force_login(center)

    def orders(q):
        response = client.get(reverse("workorders:workspace"), {"tab": "all", "q": q})
        assert response.status_code == 200
        return {o.appeal.tracking_code for o in response.context["orders"]}

    assert orders("13800007771") == codes(callers["wang"])
    assert orders("7771") == codes(callers["wang"], callers["zhao"])
    assert orders("赵六") == codes(callers["zhao"])
    assert orders("夜市 烧烤") == codes(callers["wang"])


def test_the_migration_backfills_the_last_four_digits_in_batches(callers):
    Appeal.objects.update(citizen_phone_last4="")
    migration = importlib.import_module("intake.migrations.0012_phone_last4_search")

    class Editor:
        connection = connection

    migration.backfill_last4(django_apps, Editor())
    assert dict(Appeal.objects.values_list("citizen_name", "citizen_phone_last4")) == {
        "王小明": "7771",
        "李四": "8882",
        "赵六": "7771",
    }
