"""The province-scale generator (bench/generate.py) at a tiny size: the rows it writes set-wise
must be rows the product could have written — counts as asked, every foreign key pointing at a
row, phones that decrypt to the number their hash stands for, and statuses that agree."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from intake.models import Appeal, AppealScopeEntry
from intake.phones import phone_hash
from sms.models import OutboundSms
from surveys.models import Callback, Rating, ServiceRecord
from units.models import Unit
from workorders.models import ScopeEntry, WorkOrder

pytestmark = pytest.mark.django_db

BENCH = Path(__file__).resolve().parents[2] / "bench" / "generate.py"


def load_generator():
    spec = importlib.util.spec_from_file_location("bench_generate", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def generator():
    return load_generator()


def foreign_keys_without_target() -> list[str]:
    """Every foreign-key constraint of the schema checked by one anti-join each."""
    broken = []
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT cl.relname, a.attname, rc.relname, ra.attname
            FROM pg_constraint c
            JOIN pg_class cl ON cl.oid = c.conrelid
            JOIN pg_class rc ON rc.oid = c.confrelid
            JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
            JOIN pg_attribute ra ON ra.attrelid = c.confrelid AND ra.attnum = c.confkey[1]
            WHERE c.contype = 'f' AND cl.relnamespace = 'public'::regnamespace
            """
        )
        for table, column, target, target_column in cursor.fetchall():
            cursor.execute(
                f'SELECT count(*) FROM "{table}" t WHERE t."{column}" IS NOT NULL AND NOT EXISTS '
                f'(SELECT 1 FROM "{target}" r WHERE r."{target_column}" = t."{column}")'
            )
            if cursor.fetchone()[0]:
                broken.append(f"{table}.{column} → {target}")
    return broken


def test_generator_writes_consistent_history(generator):
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_indexes WHERE tablename = 'intake_appeal'")
        indexes_before = cursor.fetchone()[0]

    counts = generator.generate(
        appeals=2_000,
        orders=2_100,
        service_records=3_000,
        cities=2,
        districts=3,
        stations=4,
        phones=500,
        quiet=True,
    )

    assert counts["appeals"] == 2_000 and Appeal.objects.count() == 2_000
    assert counts["work orders"] == 2_100 and WorkOrder.objects.count() == 2_100
    assert ServiceRecord.objects.count() == 3_000
    assert Unit.objects.filter(code__startswith="P").count() == 2 * (1 + 3 * (1 + 4))
    assert foreign_keys_without_target() == []

    # The indexes dropped for the load are all back.
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_indexes WHERE tablename = 'intake_appeal'")
        assert cursor.fetchone()[0] == indexes_before

    # Phones: what the ORM decrypts hashes to the stored keyed hash, and numbers are fake ones.
    for appeal in Appeal.objects.order_by("?")[:50]:
        assert appeal.citizen_phone.startswith("+8613800")
        assert phone_hash(appeal.citizen_phone) == appeal.citizen_phone_hash
        if hasattr(appeal, "citizen_phone_last4"):
            assert appeal.citizen_phone_last4 == appeal.citizen_phone[-4:]
    for sms in OutboundSms.objects.select_related("service_record")[:50]:
        assert phone_hash(sms.phone) == sms.phone_hash == sms.service_record.citizen_phone_hash

    # Appeals and their orders agree; the derived columns equal what the product derives.
    assert not Appeal.objects.filter(status="closed", closed_at__isnull=True).exists()
    for appeal in Appeal.objects.order_by("?")[:100]:
        assert appeal.severity_rank == appeal.severity_choice.rank
    assert not WorkOrder.objects.filter(status="closed").exclude(appeal__status="closed").exists()
    assert not Appeal.objects.filter(status="dispatched", work_orders__isnull=True).exists()
    assert not WorkOrder.objects.exclude(status="handed_back").exclude(unit=models_f("appeal__unit")).exists()
    assert (
        WorkOrder.objects.filter(status="handed_back").count()
        == 2_100 - Appeal.objects.filter(unit__isnull=False).count()
    )
    codes = list(Appeal.objects.values_list("tracking_code", flat=True))
    assert len(set(codes)) == len(codes) and all(len(c) == 9 for c in codes)
    for order in WorkOrder.objects.filter(status="closed")[:50]:
        assert [e.action for e in order.events.all()][0] == "dispatch"
        assert order.events.filter(action="close").count() == 1
        assert order.number.startswith(f"GD{timezone.localtime(order.dispatched_at):%Y%m%d}")

    # Who sees what: a station's users see its generated orders and appeals (the scope columns
    # the unit-scoped lists read), and those columns are what the product itself derives.
    station = Unit.objects.filter(code__startswith="P", tier="station", work_orders__isnull=False).first()
    own = WorkOrder.objects.filter(unit=station).count()
    assert own and WorkOrder.objects.filter(scope_units__contains=[station.pk]).count() == own
    assert (
        Appeal.objects.filter(scope_units__contains=[station.pk]).count()
        >= Appeal.objects.filter(unit=station).count()
        > 0
    )
    assert WorkOrder.objects.refresh_scope() == 0
    assert Appeal.objects.refresh_scope() == 0
    # The ordered lists' rows: one per unit that sees an order, as the order table's triggers
    # write them (the generator writes with those triggers off).
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM ((SELECT w.id, x.u::bigint, w.status, w.dispatched_at, w.closed_at, w.updated_at"
            " FROM workorders_workorder w, jsonb_array_elements_text(w.scope_units) x(u))"
            " EXCEPT (SELECT order_id, unit_id, status, dispatched_at, closed_at, updated_at"
            " FROM workorders_scopeentry)) missing"
        )
        assert cursor.fetchone()[0] == 0
    assert ScopeEntry.objects.count() == sum(len(s) for s in WorkOrder.objects.values_list("scope_units", flat=True))
    # The same for the appeals' ordered lists.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM ((SELECT a.id, x.u::bigint, a.status, a.severity_rank, a.received_at"
            " FROM intake_appeal a, jsonb_array_elements_text(a.scope_units) x(u))"
            " EXCEPT (SELECT appeal_id, unit_id, status, severity_rank, received_at FROM intake_appealscopeentry)) missing"
        )
        assert cursor.fetchone()[0] == 0
    assert AppealScopeEntry.objects.count() == sum(len(s) for s in Appeal.objects.values_list("scope_units", flat=True))

    # Every evaluation SMS belongs to a queued record; every rating to a reply of its SMS; every
    # dissatisfied rating has its callback.
    assert OutboundSms.objects.count() == ServiceRecord.objects.filter(state="queued").count()
    assert not Rating.objects.exclude(sms__service_record=models_f("service_record")).exists()
    assert Callback.objects.count() == Rating.objects.filter(verdict="dissatisfied").count()

    # The pages read these rows: the first appeal of the desk renders through the model.
    assert str(Appeal.objects.order_by("-received_at").first())


def models_f(name: str):
    from django.db.models import F

    return F(name)
