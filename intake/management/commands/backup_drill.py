"""The backup and restore drill: prove that last night's kind of backup gives the data back.

    manage.py backup_drill [--keep] [--dump PATH] [--sample 200]

Steps, each printed:
1. ``pg_dump --format=custom`` of the configured PostgreSQL database into a file;
2. ``pg_restore`` of that file into a new scratch database ``<name>_drill`` (dropped first);
3. row counts of every table equal in both databases;
4. a sample of encrypted phone columns read raw from the restored database decrypts, with the
   configured keys, to the same numbers as in the source (a backup without its keys is useless,
   and a restore that garbles ciphertext is caught here);
5. the scratch database is dropped (``--keep`` leaves it for inspection).

Exits non-zero with the differences listed when anything differs. It only reads the source
database; run it against a replica or during a quiet hour on a large one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg
from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from intake.phones import EncryptedPhoneField, decrypt


def _conninfo(dbname: str) -> dict:
    settings = connection.settings_dict
    info = {"dbname": dbname, "host": settings.get("HOST") or "127.0.0.1", "user": settings.get("USER") or "postgres"}
    if settings.get("PORT"):
        info["port"] = int(settings["PORT"])
    if settings.get("PASSWORD"):
        info["password"] = settings["PASSWORD"]
    return info


def _env() -> dict[str, str]:
    env = dict(os.environ)
    if connection.settings_dict.get("PASSWORD"):
        env["PGPASSWORD"] = connection.settings_dict["PASSWORD"]
    return env


def _client_args(info: dict) -> list[str]:
    args = ["--host", str(info["host"]), "--username", str(info["user"])]
    if "port" in info:
        args += ["--port", str(info["port"])]
    return args


def dump(source: str, path: Path) -> None:
    info = _conninfo(source)
    cmd = ["pg_dump", "--format=custom", "--no-owner", "--file", str(path), *_client_args(info), source]
    subprocess.run(cmd, check=True, env=_env(), capture_output=True)


def restore(path: Path, scratch: str) -> None:
    admin = _conninfo("postgres")
    with psycopg.connect(**admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
        conn.execute(
            f'CREATE DATABASE "{scratch}" TEMPLATE template0 ENCODING UTF8 LC_COLLATE "C.UTF-8" LC_CTYPE "C.UTF-8"'
        )
    cmd = ["pg_restore", "--no-owner", "--exit-on-error", "--dbname", scratch, *_client_args(admin), str(path)]
    subprocess.run(cmd, check=True, env=_env(), capture_output=True)


def drop(scratch: str) -> None:
    with psycopg.connect(**_conninfo("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')


def _tables(conn) -> list[str]:
    rows = conn.execute(
        "SELECT quote_ident(schemaname) || '.' || quote_ident(tablename) FROM pg_tables "
        "WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1"
    ).fetchall()
    return [r[0] for r in rows]


def _phone_columns() -> list[tuple[str, str, str]]:
    """(table, primary-key column, column) of every encrypted phone field of every model."""
    found = []
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, EncryptedPhoneField):
                found.append((model._meta.db_table, model._meta.pk.column, field.column))
    return found


def compare(source: str, scratch: str, *, sample: int = 200) -> tuple[list[str], dict[str, int]]:
    """The differences between the two databases, and what was compared."""
    problems: list[str] = []
    figures = {"tables": 0, "rows": 0, "phones": 0}
    with psycopg.connect(**_conninfo(source)) as src, psycopg.connect(**_conninfo(scratch)) as dst:
        src_tables, dst_tables = _tables(src), _tables(dst)
        if src_tables != dst_tables:
            problems.append(f"tables differ: only in source {sorted(set(src_tables) - set(dst_tables))}, "
                            f"only in restore {sorted(set(dst_tables) - set(src_tables))}")  # fmt: skip
        for table in sorted(set(src_tables) & set(dst_tables)):
            a = src.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            b = dst.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            figures["tables"] += 1
            figures["rows"] += a
            if a != b:
                problems.append(f"{table}: {a} rows in source, {b} after restore")
        for table, pk, column in _phone_columns():
            query = f'SELECT "{pk}", "{column}" FROM "{table}" WHERE "{column}" <> \'\' ORDER BY "{pk}" DESC LIMIT %s'
            source_rows = dict(src.execute(query, [sample]).fetchall())
            restored = dict(dst.execute(query, [sample]).fetchall())
            for key, token in source_rows.items():
                figures["phones"] += 1
                try:
                    expected = decrypt(token)
                    got = decrypt(restored[key]) if key in restored else None
                except ValueError:
                    problems.append(f"{table}.{column} #{key}: cannot be decrypted with the configured keys")
                    continue
                if got != expected:
                    problems.append(f"{table}.{column} #{key}: phone differs after restore")
    return problems, figures


class Command(BaseCommand):
    help = "Dump the database with pg_dump, restore it into a scratch database and check it is whole."

    def add_arguments(self, parser):
        parser.add_argument("--keep", action="store_true", help="keep the scratch database")
        parser.add_argument(
            "--dump", dest="dump_path", help="where to write the dump (default: a temporary file, removed)"
        )
        parser.add_argument("--sample", type=int, default=200, help="phones compared per column")

    def handle(self, *args, keep=False, dump_path=None, sample=200, **options):
        if connection.vendor != "postgresql":
            raise CommandError("备份演练只适用于 PostgreSQL 数据库。")
        for tool in ("pg_dump", "pg_restore"):
            if shutil.which(tool) is None:
                raise CommandError(f"找不到 {tool}（请安装 PostgreSQL 客户端）。")
        source = connection.settings_dict["NAME"]
        scratch = f"{source}_drill"[:63]
        workdir = None
        if dump_path:
            path = Path(dump_path)
        else:
            workdir = tempfile.mkdtemp(prefix="backup-drill-")
            path = Path(workdir) / f"{source}.dump"
        try:
            dump(source, path)
            self.stdout.write(f"1. pg_dump of {source}: {path.stat().st_size:,} bytes")
            restore(path, scratch)
            self.stdout.write(f"2. pg_restore into {scratch}")
            problems, figures = compare(source, scratch, sample=sample)
            self.stdout.write(f"3. {figures['tables']} tables, {figures['rows']:,} rows compared")
            self.stdout.write(f"4. {figures['phones']} encrypted phones decrypted and compared")
        except subprocess.CalledProcessError as exc:
            raise CommandError(f"{exc.cmd[0]} failed: {exc.stderr.decode(errors='replace')[-2000:]}") from exc
        finally:
            if workdir:
                shutil.rmtree(workdir, ignore_errors=True)
            if not keep:
                drop(scratch)
        if problems:
            for line in problems:
                self.stderr.write(f"DIFFERS {line}")
            raise CommandError(f"备份演练失败：{len(problems)} 处不一致。")
        self.stdout.write(self.style.SUCCESS("5. the restored database equals the source: drill passed"))
