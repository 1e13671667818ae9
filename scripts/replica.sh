#!/usr/bin/env bash
# A PostgreSQL streaming replica of the local primary, on another port, for the replica-routing
# test (tests/units/test_replica.py) and for trying DATABASE_REPLICA_URL on one machine.
#
#   scripts/replica.sh start   # base backup of the primary (pg_basebackup -R), started as a hot standby
#   scripts/replica.sh wait    # until the replica has replayed everything the primary has written
#   scripts/replica.sh stop    # stop it and delete its data directory
#   scripts/replica.sh status
#
# Settings (environment): PRIMARY_HOST (127.0.0.1), PRIMARY_PORT (5432), PRIMARY_USER (postgres),
# REPLICA_PORT (5442), REPLICA_DIR (/tmp/oc-replica-<port>), PG_BIN (from pg_config).
#
# It is a physical copy of the whole primary cluster (every database on it), kept only while it
# runs: `stop` deletes it. The replica streams through a replication slot (oc_replica_<port>), so a
# primary busy writing cannot recycle the WAL the replica still needs between the end of the copy
# and its start; `stop` drops the slot, and `start` drops one left by a run that never stopped, so a
# stopped replica never makes the primary keep WAL.
#
# The primary must accept replication connections from 127.0.0.1. When its pg_hba.conf already
# trusts every connection from 127.0.0.1 (the development and CI set-up), the same trust is added
# for replication, once, and the configuration reloaded; otherwise the script stops and says what to
# add. PostgreSQL refuses to run as root: as root, the server commands run as the "postgres" user.
set -euo pipefail

PRIMARY_HOST="${PRIMARY_HOST:-127.0.0.1}"
PRIMARY_PORT="${PRIMARY_PORT:-5432}"
PRIMARY_USER="${PRIMARY_USER:-postgres}"
REPLICA_PORT="${REPLICA_PORT:-5442}"
REPLICA_DIR="${REPLICA_DIR:-/tmp/oc-replica-${REPLICA_PORT}}"
SLOT="oc_replica_${REPLICA_PORT}"
PG_BIN="${PG_BIN:-$(pg_config --bindir 2>/dev/null || echo /usr/lib/postgresql/15/bin)}"
# pg_config may be a newer client than the server: prefer the server's own major version.
SERVER_MAJOR="$(psql -h "$PRIMARY_HOST" -p "$PRIMARY_PORT" -U "$PRIMARY_USER" -d postgres -Atc "SHOW server_version_num" 2>/dev/null | cut -c1-2 || true)"
if [[ -n "$SERVER_MAJOR" && -x "/usr/lib/postgresql/$SERVER_MAJOR/bin/pg_ctl" ]]; then
    PG_BIN="/usr/lib/postgresql/$SERVER_MAJOR/bin"
fi

primary_sql() { psql -h "$PRIMARY_HOST" -p "$PRIMARY_PORT" -U "$PRIMARY_USER" -d postgres -v ON_ERROR_STOP=1 -Atc "$1"; }
replica_sql() { psql -h 127.0.0.1 -p "$REPLICA_PORT" -U "$PRIMARY_USER" -d postgres -v ON_ERROR_STOP=1 -Atc "$1"; }

# Server commands run as the owner of the data directory (postgres when we are root).
as_owner() {
    if [[ "$(id -u)" == 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

running() { [[ -f "$REPLICA_DIR/postmaster.pid" ]] && as_owner "$PG_BIN/pg_ctl" -D "$REPLICA_DIR" status >/dev/null 2>&1; }

allow_replication() {
    local hba
    hba="$(primary_sql "SHOW hba_file")"
    if [[ ! -r "$hba" ]]; then
        echo "replica.sh: cannot read the primary's $hba; it must allow: host replication all 127.0.0.1/32" >&2
        exit 1
    fi
    if grep -Eq '^[[:space:]]*host[[:space:]]+replication[[:space:]]+all[[:space:]]+127\.0\.0\.1/32' "$hba"; then
        return
    fi
    if ! grep -Eq '^[[:space:]]*host[[:space:]]+all[[:space:]]+all[[:space:]]+127\.0\.0\.1/32[[:space:]]+trust' "$hba"; then
        echo "replica.sh: the primary does not trust 127.0.0.1; add a replication line to $hba yourself" >&2
        echo "            (e.g. 'host replication all 127.0.0.1/32 scram-sha-256') and reload it." >&2
        exit 1
    fi
    printf '%s\n' "# Local streaming replicas (scripts/replica.sh): same trust as the line above." \
        "host    replication     all             127.0.0.1/32            trust" >>"$hba"
    primary_sql "SELECT pg_reload_conf()" >/dev/null
}

start() {
    if running; then
        echo "replica already running on port $REPLICA_PORT ($REPLICA_DIR)"
        return
    fi
    allow_replication
    drop_slot
    rm -rf "$REPLICA_DIR"
    mkdir -p "$REPLICA_DIR"
    chmod 700 "$REPLICA_DIR"
    [[ "$(id -u)" == 0 ]] && chown postgres:postgres "$REPLICA_DIR"
    # -R writes standby.signal and primary_conninfo: the copy starts as a streaming standby. A
    # database dropped on the primary during the copy fails it: try again on a clean directory.
    local attempt
    for attempt in 1 2 3; do
        if as_owner "$PG_BIN/pg_basebackup" -h "$PRIMARY_HOST" -p "$PRIMARY_PORT" -U "$PRIMARY_USER" \
            -D "$REPLICA_DIR" -R -X stream -c fast --no-sync -C -S "$SLOT"; then
            break
        fi
        [[ $attempt == 3 ]] && exit 1
        echo "replica.sh: base backup failed, trying again" >&2
        as_owner find "$REPLICA_DIR" -mindepth 1 -delete
        drop_slot
        sleep 1
    done
    # A hot standby needs these at least as high as on the primary.
    local name value extra=""
    for name in max_connections max_worker_processes max_wal_senders max_prepared_transactions max_locks_per_transaction; do
        value="$(primary_sql "SHOW $name")"
        extra+="$name = $value"$'\n'
    done
    # A Debian cluster keeps its configuration outside the data directory: write the replica's own.
    as_owner tee "$REPLICA_DIR/postgresql.conf" >/dev/null <<EOF
port = $REPLICA_PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '$REPLICA_DIR'
hba_file = '$REPLICA_DIR/pg_hba.conf'
ident_file = '$REPLICA_DIR/pg_ident.conf'
hot_standby = on
hot_standby_feedback = on
shared_buffers = 32MB
fsync = off
ssl = off
logging_collector = off
$extra
EOF
    as_owner tee "$REPLICA_DIR/pg_hba.conf" >/dev/null <<EOF
local   all             all                                     trust
host    all             all             127.0.0.1/32            trust
EOF
    as_owner touch "$REPLICA_DIR/pg_ident.conf"
    if ! as_owner "$PG_BIN/pg_ctl" -D "$REPLICA_DIR" -l "$REPLICA_DIR/server.log" -w -t 120 start >/dev/null; then
        tail -n 20 "$REPLICA_DIR/server.log" >&2
        exit 1
    fi
    if [[ "$(replica_sql "SELECT pg_is_in_recovery()")" != "t" ]]; then
        echo "replica.sh: the server on port $REPLICA_PORT is not a standby" >&2
        exit 1
    fi
    echo "replica streaming from $PRIMARY_HOST:$PRIMARY_PORT on 127.0.0.1:$REPLICA_PORT ($REPLICA_DIR)"
}

wait_caught_up() {
    local target
    target="$(primary_sql "SELECT pg_current_wal_lsn()")"
    for _ in $(seq 1 200); do
        if [[ "$(replica_sql "SELECT pg_last_wal_replay_lsn() >= '$target'::pg_lsn")" == "t" ]]; then
            return
        fi
        sleep 0.05
    done
    echo "replica.sh: the replica did not reach $target within 10 s" >&2
    exit 1
}

drop_slot() {
    primary_sql "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '$SLOT' AND NOT active" >/dev/null
}

stop() {
    if running; then
        as_owner "$PG_BIN/pg_ctl" -D "$REPLICA_DIR" -m fast -w stop >/dev/null
    fi
    rm -rf "$REPLICA_DIR"
    # The walsender may take a moment to notice its replica is gone.
    for _ in $(seq 1 50); do
        drop_slot
        [[ -z "$(primary_sql "SELECT 1 FROM pg_replication_slots WHERE slot_name = '$SLOT'")" ]] && return
        sleep 0.1
    done
    echo "replica.sh: replication slot $SLOT is still active on the primary" >&2
    exit 1
}

case "${1:-}" in
    start) start ;;
    wait) wait_caught_up ;;
    stop) stop ;;
    status) if running; then echo "running on port $REPLICA_PORT"; else echo "stopped"; exit 3; fi ;;
    *) echo "usage: $0 start|wait|stop|status" >&2; exit 2 ;;
esac
