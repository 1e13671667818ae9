#!/usr/bin/env bash
# A small PostgreSQL primary and a streaming standby of it, both of their own, for the
# replica-routing test (tests/units/test_replica.py) and for trying DATABASE_REPLICA_URL on one
# machine without touching the machine's own cluster.
#
#   scripts/replica.sh start          # new primary (initdb) on 5441, its hot standby on 5442
#   scripts/replica.sh wait           # until the standby has replayed everything the primary wrote
#   scripts/replica.sh stop-standby   # stop the standby only (the primary keeps running)
#   scripts/replica.sh stop           # stop both and delete their data directories
#   scripts/replica.sh status
#
# Then: DATABASE_URL=postgres://postgres@127.0.0.1:5441/<db>
#       DATABASE_REPLICA_URL=postgres://postgres@127.0.0.1:5442/<db>
#
# Settings (environment): PRIMARY_PORT (5441), REPLICA_PORT (5442), REPLICA_TEST_DIR
# (var/replica-test of the checkout, or /tmp/oc-replica-test-<hash> as root; primary/ and standby/ inside), PG_BIN (the newest
# /usr/lib/postgresql/<version>/bin).
#
# Both clusters are new and empty, so the copy is a few megabytes and takes a second, whatever the
# machine's shared cluster holds. They trust every local and 127.0.0.1 connection (replication
# included) and listen on 127.0.0.1 only: they are for tests, and `stop` deletes them. The standby
# streams through a replication slot, so the primary cannot recycle WAL it still needs between the
# end of the copy and its start. initdb and postgres refuse to run as root: as root, the server
# commands run as the "postgres" user, which then owns the directories.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PRIMARY_PORT="${PRIMARY_PORT:-5441}"
REPLICA_PORT="${REPLICA_PORT:-5442}"
# As root the servers run as "postgres", which may not be able to reach the checkout (a clone in a
# 0700 temporary folder, say): their directories then live under /tmp, one per checkout.
if [[ "$(id -u)" == 0 ]]; then
    DEFAULT_DIR="/tmp/oc-replica-test-$(printf %s "$HERE" | md5sum | cut -c1-12)"
else
    DEFAULT_DIR="$HERE/var/replica-test"
fi
ROOT_DIR="${REPLICA_TEST_DIR:-$DEFAULT_DIR}"
PRIMARY_DIR="$ROOT_DIR/primary"
STANDBY_DIR="$ROOT_DIR/standby"
SLOT="oc_standby_${REPLICA_PORT}"
if [[ -z "${PG_BIN:-}" ]]; then
    PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
fi
if [[ ! -x "$PG_BIN/initdb" || ! -x "$PG_BIN/pg_basebackup" ]]; then
    echo "replica.sh: no PostgreSQL server binaries in '$PG_BIN' (set PG_BIN)" >&2
    exit 1
fi

# Server commands run as the owner of the data directories (postgres when we are root).
as_owner() {
    if [[ "$(id -u)" == 0 ]]; then
        (cd / && runuser -u postgres -- "$@")
    else
        "$@"
    fi
}

sql() { "$PG_BIN/psql" -h 127.0.0.1 -p "$1" -U postgres -d postgres -v ON_ERROR_STOP=1 -Atc "$2"; }

running() { [[ -f "$1/postmaster.pid" ]] && as_owner "$PG_BIN/pg_ctl" -D "$1" status >/dev/null 2>&1; }

# Settings for a throw-away test server: small, no durability, no background noise.
server_conf() {
    cat <<EOF
port = $1
listen_addresses = '127.0.0.1'
unix_socket_directories = '$2'
max_connections = 30
shared_buffers = 32MB
fsync = off
synchronous_commit = off
full_page_writes = off
wal_level = replica
max_wal_senders = 4
max_replication_slots = 4
wal_sender_timeout = 10s
hot_standby = on
hot_standby_feedback = on
ssl = off
logging_collector = off
log_min_messages = warning
EOF
}

start_server() {
    if ! as_owner "$PG_BIN/pg_ctl" -D "$1" -l "$ROOT_DIR/$(basename "$1").log" -w -t 60 start >/dev/null; then
        tail -n 20 "$ROOT_DIR/$(basename "$1").log" >&2
        exit 1
    fi
}

start() {
    if running "$PRIMARY_DIR" || running "$STANDBY_DIR"; then
        echo "replica.sh: already running ($ROOT_DIR); stop it first" >&2
        exit 1
    fi
    rm -rf "$PRIMARY_DIR" "$STANDBY_DIR"
    mkdir -p "$PRIMARY_DIR" "$STANDBY_DIR"
    chmod 700 "$PRIMARY_DIR" "$STANDBY_DIR"
    [[ "$(id -u)" == 0 ]] && chown postgres:postgres "$ROOT_DIR" "$PRIMARY_DIR" "$STANDBY_DIR"

    as_owner "$PG_BIN/initdb" -D "$PRIMARY_DIR" -U postgres --auth=trust --no-sync \
        --encoding=UTF8 --locale=C.UTF-8 >/dev/null
    server_conf "$PRIMARY_PORT" "$ROOT_DIR" | as_owner tee -a "$PRIMARY_DIR/postgresql.conf" >/dev/null
    as_owner tee "$PRIMARY_DIR/pg_hba.conf" >/dev/null <<EOF
local   all             all                                     trust
local   replication     all                                     trust
host    all             all             127.0.0.1/32            trust
host    replication     all             127.0.0.1/32            trust
EOF
    start_server "$PRIMARY_DIR"

    # -R writes standby.signal and primary_conninfo; -C -S makes the slot it will stream from.
    as_owner "$PG_BIN/pg_basebackup" -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -D "$STANDBY_DIR" \
        -R -X stream -c fast --no-sync -C -S "$SLOT"
    # The copy carries the primary's postgresql.conf: only the port and socket directory differ.
    server_conf "$REPLICA_PORT" "$ROOT_DIR" | as_owner tee -a "$STANDBY_DIR/postgresql.conf" >/dev/null
    as_owner rm -f "$STANDBY_DIR/postmaster.pid" "$STANDBY_DIR/postmaster.opts"
    start_server "$STANDBY_DIR"
    if [[ "$(sql "$REPLICA_PORT" "SELECT pg_is_in_recovery()")" != "t" ]]; then
        echo "replica.sh: the server on port $REPLICA_PORT is not a standby" >&2
        exit 1
    fi
    echo "primary on 127.0.0.1:$PRIMARY_PORT, standby streaming from it on 127.0.0.1:$REPLICA_PORT ($ROOT_DIR)"
}

wait_caught_up() {
    local target
    target="$(sql "$PRIMARY_PORT" "SELECT pg_current_wal_lsn()")"
    for _ in $(seq 1 400); do
        if [[ "$(sql "$REPLICA_PORT" "SELECT pg_last_wal_replay_lsn() >= '$target'::pg_lsn")" == "t" ]]; then
            return
        fi
        sleep 0.05
    done
    echo "replica.sh: the standby did not reach $target within 20 s" >&2
    exit 1
}

stop_server() {
    if running "$1"; then
        as_owner "$PG_BIN/pg_ctl" -D "$1" -m immediate -w stop >/dev/null
    fi
}

stop() {
    stop_server "$STANDBY_DIR"
    stop_server "$PRIMARY_DIR"
    rm -rf "$PRIMARY_DIR" "$STANDBY_DIR" "$ROOT_DIR"/*.log
    rmdir "$ROOT_DIR" 2>/dev/null || true
}

status() {
    local rc=0
    if running "$PRIMARY_DIR"; then echo "primary running on port $PRIMARY_PORT"; else echo "primary stopped"; rc=3; fi
    if running "$STANDBY_DIR"; then echo "standby running on port $REPLICA_PORT"; else echo "standby stopped"; rc=3; fi
    return $rc
}

case "${1:-}" in
    start) start ;;
    wait) wait_caught_up ;;
    stop-standby) stop_server "$STANDBY_DIR" ;;
    stop) stop ;;
    status) status ;;
    *) echo "usage: $0 start|wait|stop-standby|stop|status" >&2; exit 2 ;;
esac
