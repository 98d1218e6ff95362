#!/usr/bin/env bash
# A throwaway PostgreSQL server on 127.0.0.1 for the tuner's storage tests.
#
#   eval "$(bash scripts/pg-test.sh start)"   # prints `export LSTMKIT_PG_URL=...` (and LSTMKIT_PG_DATA)
#   bash scripts/pg-test.sh stop              # stops it and removes its data directory
#   bash scripts/pg-test.sh run CMD ARGS...   # start, run CMD with LSTMKIT_PG_URL set, stop; CMD's exit code
#
# Installs Debian's `postgresql` package when no server binaries are found (needs root and the
# Debian archive). The cluster lives in a fresh temporary directory, listens on 127.0.0.1 only,
# uses trust authentication, and runs as the `postgres` user when started by root.
set -euo pipefail

STATE=${LSTMKIT_PG_STATE:-/tmp/lstmkit-pg.state}

log() { echo "pg-test: $*" >&2; }

pg_bin() {
    ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

ensure_installed() {
    if [ -n "$(pg_bin)" ] && [ -x "$(pg_bin)/initdb" ]; then
        return
    fi
    if [ "$(id -u)" != 0 ]; then
        log "PostgreSQL is not installed and installing it needs root (apt-get install postgresql)"
        exit 1
    fi
    log "installing Debian's postgresql package"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends postgresql >&2
    if [ -z "$(pg_bin)" ]; then
        log "postgresql installed but no /usr/lib/postgresql/*/bin found"
        exit 1
    fi
}

# Runs a command as the cluster's owner.
as_owner() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

start() {
    ensure_installed
    local bin data port
    bin=$(pg_bin)
    data=$(mktemp -d /tmp/lstmkit-pg.XXXXXX)
    if [ "$(id -u)" = 0 ]; then
        id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql postgres
        chown postgres "$data"
    fi
    chmod 700 "$data"
    as_owner "$bin/initdb" -D "$data/db" -U postgres --auth=trust -E UTF8 >"$data/initdb.log" 2>&1 || {
        cat "$data/initdb.log" >&2
        exit 1
    }
    for port in $(seq 55432 55482); do
        if as_owner "$bin/pg_ctl" -D "$data/db" -l "$data/server.log" -w -t 60 \
            -o "-c listen_addresses=127.0.0.1 -p $port -k $data -c fsync=off -c max_connections=100" \
            start >/dev/null 2>&1; then
            break
        fi
        port=""
    done
    if [ -z "$port" ]; then
        log "could not start the server; its log:"
        cat "$data/server.log" >&2 || true
        exit 1
    fi
    as_owner "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres lstmkit_test
    echo "$data" >"$STATE"
    log "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port, data in $data"
    echo "export LSTMKIT_PG_URL=postgres://postgres@127.0.0.1:$port/lstmkit_test"
    echo "export LSTMKIT_PG_DATA=$data"
}

stop() {
    local data=${LSTMKIT_PG_DATA:-}
    if [ -z "$data" ] && [ -f "$STATE" ]; then
        data=$(cat "$STATE")
    fi
    if [ -z "$data" ] || [ ! -d "$data" ]; then
        log "nothing to stop"
        return 0
    fi
    as_owner "$(pg_bin)/pg_ctl" -D "$data/db" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$data"
    rm -f "$STATE"
    log "stopped and removed $data"
}

case "${1:-}" in
start) start ;;
stop) stop ;;
run)
    shift
    env_lines=$(start)
    eval "$env_lines"
    trap stop EXIT
    "$@"
    ;;
*)
    echo "usage: $0 start | stop | run CMD [ARGS...]" >&2
    exit 2
    ;;
esac
