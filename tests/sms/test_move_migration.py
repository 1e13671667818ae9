"""The SMS tables moved from the surveys app without losing a row: the demo loaded, the migrations
of the move undone (tables back to surveys_*, the surveys state of before) and applied again from
that old schema with its data — counts, statuses and links equal at every step."""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

MOVED = ("smstemplate", "outboundsms", "smsattempt", "deliverystatusevent", "senderbucket", "inboundsms", "optout")


def snapshot(prefix: str) -> dict:
    """Counts and statuses of every moved table, and the links the surveys rows hold to them."""
    queries = {f"count {t}": f'SELECT count(*) FROM "{prefix}_{t}"' for t in MOVED}
    queries |= {
        "sms statuses": f"SELECT status, purpose, count(*) FROM {prefix}_outboundsms GROUP BY 1, 2 ORDER BY 1, 2",
        "sms rows": f"SELECT md5(string_agg(id || status || coalesce(provider_sid, '') || phone_hash || "
        f"coalesce(service_record_id, 0) || coalesce(follow_up_of_id, 0), ',' ORDER BY id)) FROM {prefix}_outboundsms",
        "inbound outcomes": f"SELECT outcome, count(*) FROM {prefix}_inboundsms GROUP BY 1 ORDER BY 1",
        "attempt outcomes": f"SELECT outcome, count(*) FROM {prefix}_smsattempt GROUP BY 1 ORDER BY 1",
        "opt-out sources": f"SELECT source, count(*) FROM {prefix}_optout GROUP BY 1 ORDER BY 1",
        "ratings → sms": f"SELECT count(*) FROM surveys_rating r JOIN {prefix}_outboundsms s ON s.id = r.sms_id",
        "business types → templates": "SELECT count(*) FROM surveys_businesstype b "
        f"JOIN {prefix}_smstemplate t ON t.id = b.template_id",
        "reviews → inbound": f"SELECT count(*) FROM surveys_reviewitem v JOIN {prefix}_inboundsms i ON i.id = v.inbound_id",
    }
    result = {}
    with connection.cursor() as cursor:
        for name, sql in queries.items():
            cursor.execute(sql)
            result[name] = cursor.fetchall()
    return result


def migrate(targets) -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)


@pytest.mark.django_db(transaction=True)
def test_the_demo_survives_the_move_back_and_forth(settings):
    settings.SMS_SEND_HOURS = "00:00-23:59:59"
    call_command("load_demo", allow_production=True, verbosity=0)
    moved = snapshot("sms")
    assert moved["count outboundsms"][0][0] > 0 and moved["count inboundsms"][0][0] > 0
    assert moved["ratings → sms"][0][0] > 0 and moved["count optout"][0][0] > 0
    leaves = MigrationExecutor(connection).loader.graph.leaf_nodes()
    try:
        migrate([("sms", None)])  # back to the schema before the move: surveys 0009
        with connection.cursor() as cursor:
            assert "surveys_outboundsms" in connection.introspection.table_names(cursor)
            assert "sms_outboundsms" not in connection.introspection.table_names(cursor)
        assert snapshot("surveys") == moved
        assert ContentType.objects.filter(app_label="surveys", model="outboundsms").exists()
    finally:
        migrate(leaves)  # forward from the old schema holding the data
    assert snapshot("sms") == moved
    ContentType.objects.clear_cache()
    assert ContentType.objects.get_for_id(ContentType.objects.get(app_label="sms", model="outboundsms").pk)
    assert not ContentType.objects.filter(app_label="surveys", model="outboundsms").exists()
