#!/usr/bin/env bash
# Makes sure PostgreSQL and Redis answer on 127.0.0.1 with the defaults the README documents
# (PostgreSQL 15 on :5432, user `postgres`, trust auth on loopback; Redis on :6379), installing
# them from Debian's packages when missing. Safe to run again: what already runs is left alone.
# Skips a service whose URL is set in the environment (DATABASE_URL, REDIS_URL).
set -euo pipefail

PG_VERSION="${PG_VERSION:-15}"
PG_CONF="/etc/postgresql/${PG_VERSION}/main"

say() { echo "services: $*"; }
pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }

apt_updated=""
apt_install() {
  if [ "$(id -u)" != "0" ]; then
    say "need to install $*, but not root: run 'sudo apt-get install -y $*' (or see the README's Prerequisites)"
    exit 1
  fi
  if [ -z "$apt_updated" ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    apt_updated=1
  fi
  say "installing $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

write_trust_hba() {
  cat >"$PG_CONF/pg_hba.conf" <<'HBA'
# Written by scripts/services.sh: trust on this machine only (development and CI).
local   all             all                                     trust
host    all             all             127.0.0.1/32            trust
host    all             all             ::1/128                 trust
local   replication     all                                     trust
host    replication     all             127.0.0.1/32            trust
host    replication     all             ::1/128                 trust
HBA
}

ensure_postgres() {
  if pg_up; then return; fi
  if ! command -v pg_ctlcluster >/dev/null 2>&1 || [ ! -x "/usr/lib/postgresql/${PG_VERSION}/bin/postgres" ]; then
    apt_install postgresql
  fi
  if [ ! -d "$PG_CONF" ]; then
    say "creating cluster ${PG_VERSION}/main"
    pg_createcluster "$PG_VERSION" main >/dev/null
  fi
  if ! grep -Eq '^host[[:space:]]+all[[:space:]]+all[[:space:]]+127\.0\.0\.1/32[[:space:]]+trust' "$PG_CONF/pg_hba.conf"; then
    write_trust_hba
  fi
  say "starting PostgreSQL ${PG_VERSION}"
  pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" main start || pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" main reload || true
}

ensure_redis() {
  if redis_up; then return; fi
  if ! command -v redis-server >/dev/null 2>&1; then
    apt_install redis-server
  fi
  say "starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --dir /tmp --logfile /tmp/lakehouse-redis.log
}

wait_for() {
  local name="$1" check="$2"
  for _ in $(seq 1 60); do
    if "$check"; then return 0; fi
    sleep 0.5
  done
  say "$name does not answer on 127.0.0.1 after 30 s"
  exit 1
}

if [ -z "${DATABASE_URL:-}" ]; then ensure_postgres; wait_for PostgreSQL pg_up; fi
if [ -z "${REDIS_URL:-}" ]; then ensure_redis; wait_for Redis redis_up; fi
say "PostgreSQL and Redis answer"
