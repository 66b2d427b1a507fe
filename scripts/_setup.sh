# Shared set-up for scripts/demo.sh and scripts/test.sh (sourced, not run).
# Installs uv if missing and syncs the locked dependencies; defines start_services.

cd "$(dirname "${BASH_SOURCE[0]}")/.."

if command -v uv >/dev/null 2>&1; then
  UV=(uv)
else
  echo "== installing uv" >&2
  python3 -m pip install --quiet uv
  UV=(python3 -m uv)
fi

sync_dependencies() {
  echo "== syncing dependencies (uv.lock)" >&2
  "${UV[@]}" sync --locked --quiet
}

start_postgres() {
  if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    return
  fi
  if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    echo "== installing PostgreSQL" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    local conf
    conf=$(ls /etc/postgresql/*/main/pg_hba.conf | head -n 1)
    sed -i -E 's/^(host\s+all\s+all\s+127\.0\.0\.1\/32\s+)\S+/\1trust/; s/^(local\s+all\s+(all|postgres)\s+)\S+/\1trust/' "$conf"
  fi
  echo "== starting PostgreSQL" >&2
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || true
  for _ in $(seq 1 30); do
    pg_isready -q -h 127.0.0.1 -p 5432 && return
    sleep 1
  done
  echo "PostgreSQL did not start" >&2
  exit 1
}

start_rabbitmq() {
  if (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null; then
    return
  fi
  if ! command -v rabbitmq-server >/dev/null 2>&1; then
    echo "== installing RabbitMQ" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rabbitmq-server >/dev/null
  fi
  echo "== starting RabbitMQ" >&2
  rabbitmq-server -detached || true
  for _ in $(seq 1 60); do
    (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null && return
    sleep 1
  done
  echo "RabbitMQ did not start" >&2
  exit 1
}

ensure_chromium() {
  # Browser tests drive Debian's Chromium through Playwright (never a downloaded browser build).
  if command -v chromium >/dev/null 2>&1; then
    return
  fi
  echo "== installing Chromium" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
}
