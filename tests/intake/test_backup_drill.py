"""The backup and restore drill (manage.py backup_drill) on a generated database."""

import io

import psycopg
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from intake.management.commands import backup_drill
from intake.models import Appeal
from intake.phones import phone_hash

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def generated(city):
    """A few hundred committed appeals with distinct encrypted phones."""
    Appeal.objects.bulk_create(
        Appeal(
            channel="hotline",
            content=f"夜间施工噪音扰民，请尽快处理（{n}）",
            citizen_phone=f"+86138000{n:05d}",
            citizen_phone_hash=phone_hash(f"+86138000{n:05d}"),
            status="new",
            severity="yellow",
        )
        for n in range(300)
    )
    return Appeal.objects.count()


def test_it_restores_every_row_and_every_phone(generated):
    out = io.StringIO()
    call_command("backup_drill", "--sample", "300", stdout=out)
    text = out.getvalue()
    assert "drill passed" in text
    assert "300 encrypted phones" in text or "encrypted phones decrypted" in text
    # the scratch database is dropped afterwards
    with psycopg.connect(**backup_drill._conninfo("postgres")) as conn:
        name = f"{connection.settings_dict['NAME']}_drill"
        assert conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is None


def test_it_reports_a_restore_that_lost_rows_or_garbled_a_phone(generated, tmp_path):
    source = connection.settings_dict["NAME"]
    scratch = f"{source}_drill"
    backup_drill.dump(source, tmp_path / "db.dump")
    backup_drill.restore(tmp_path / "db.dump", scratch)
    try:
        with psycopg.connect(**backup_drill._conninfo(scratch), autocommit=True) as conn:
            last = conn.execute("SELECT max(id) FROM intake_appeal").fetchone()[0]
            conn.execute("DELETE FROM intake_appealevent WHERE appeal_id = %s", [last])
            conn.execute("DELETE FROM intake_appeal WHERE id = %s", [last])
            conn.execute(
                "UPDATE intake_appeal SET citizen_phone = (SELECT citizen_phone FROM intake_appeal WHERE id = %s) "
                "WHERE id = %s",
                [last - 2, last - 1],
            )
        problems, figures = backup_drill.compare(source, scratch, sample=10)
    finally:
        backup_drill.drop(scratch)
    assert figures["phones"] >= 10
    assert any("intake_appeal: 300 rows in source, 299 after restore" in p for p in problems), problems
    assert any(p.endswith("phone differs after restore") for p in problems), problems


def test_it_refuses_to_pretend_on_sqlite(settings, monkeypatch):
    monkeypatch.setattr(connection, "vendor", "sqlite")
    with pytest.raises(CommandError):
        call_command("backup_drill")
