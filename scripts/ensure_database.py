"""Create the PostgreSQL database named in DATABASE_URL when it does not exist yet.

Nothing to do without DATABASE_URL (SQLite creates its file itself) or when the database is
there. The database is created UTF-8 with a UTF-8 ctype: pg_trgm ignores Chinese characters
under LC_CTYPE=C, and the desk's text search relies on it.
"""

import os
import sys
import urllib.parse


def main() -> int:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        return 0
    import psycopg

    parts = urllib.parse.urlparse(url)
    name = urllib.parse.unquote(parts.path.lstrip("/"))
    params = {
        "host": parts.hostname or "127.0.0.1",
        "port": parts.port or 5432,
        "user": urllib.parse.unquote(parts.username or "postgres"),
        "dbname": "postgres",
        "autocommit": True,
    }
    if parts.password:
        params["password"] = urllib.parse.unquote(parts.password)
    with psycopg.connect(**params) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            return 0
        conn.execute(
            f'CREATE DATABASE "{name}" TEMPLATE template0 ENCODING UTF8 LC_COLLATE "C.UTF-8" LC_CTYPE "C.UTF-8"'
        )
        print(f"created PostgreSQL database {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
