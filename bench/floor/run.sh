#!/bin/sh
# The floor: CPU per request of gunicorn as `zorgsleutel run` starts it (2 workers, gthread,
# 4 threads), kept-alive connections from wrk (10 connections, 10 s after a 3-s warm-up), for
#   1. the smallest WSGI application (gunicorn alone),
#   2. the portal's settings and middleware with a view that does nothing (/floor/ok),
#   3. the portal's login page (GET /inloggen).
# Needs wrk (Debian: apt-get install wrk). Results: docs/benchmarks.md ("The floor").
set -eu
cd "$(dirname "$0")"
ROOT=$(cd ../.. && pwd)
PY="$ROOT/.venv/bin/python"
PORT=${PORT:-18777}
export ZS_VAR_DIR="${ZS_VAR_DIR:-$(mktemp -d)}" DEBUG=0 ALLOWED_HOSTS=127.0.0.1
export SECRET_KEY="$($PY -c 'import secrets; print(secrets.token_urlsafe(40))')"
export VAULT_CLIENT_KEY="$($PY -c 'import secrets; print(secrets.token_hex(32))')"
export VAULT_URL=http://127.0.0.1:9 DJANGO_SETTINGS_MODULE=settings PYTHONPATH="$PWD"
"$ROOT/.venv/bin/zorgsleutel" migrate -v0 >/dev/null

load() {  # behind the TLS proxy, as the login benchmark; 3xx would count as success in wrk
    wrk -t2 -c10 -H "X-Forwarded-Proto: https" -H "Accept-Language: nl" "$@"
}

cpu_ticks() {  # utime + stime of the arbiter and its workers
    for pid in "$@"; do cut -d' ' -f14,15 "/proc/$pid/stat"; done | awk '{t += $1 + $2} END {print t}'
}

measure() {  # APP PATH LABEL
    "$PY" -m gunicorn "$1" --bind "127.0.0.1:$PORT" --workers 2 --worker-class gthread \
        --threads 4 --log-level warning &
    arbiter=$!
    sleep 4
    load -d3s "http://127.0.0.1:$PORT$2" >/dev/null
    pids="$arbiter $(pgrep -P $arbiter | tr '\n' ' ')"
    before=$(cpu_ticks $pids)
    out=$(load -d10s "http://127.0.0.1:$PORT$2")
    after=$(cpu_ticks $pids)
    requests=$(echo "$out" | awk '/requests in/ {print $1}')
    bad=$(echo "$out" | awk '/Non-2xx/ {print $NF}')
    status=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Forwarded-Proto: https" "http://127.0.0.1:$PORT$2" || true)
    "$PY" -c "import sys; t, n = int(sys.argv[1]), int(sys.argv[2]); \
print(f'{sys.argv[3]:48} {n:7d} requests {t * 1000 / 100 / n:6.3f} ms CPU each (non-2xx: {sys.argv[4] or 0})')" \
        "$((after - before))" "$requests" "$3 [$status]" "$bad"
    kill "$arbiter"; wait "$arbiter" 2>/dev/null || true
}

measure hello:app / "gunicorn alone (smallest WSGI app)"
measure zorgsleutel.wsgi:application /floor/ok "portal middleware, a view that does nothing"
measure zorgsleutel.wsgi:application /inloggen "GET /inloggen (the login page)"
