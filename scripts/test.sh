#!/usr/bin/env bash
# `make test`: formatting, lints and every test against the real local stack
# (its own databases, vhost and prefixes, never run's data), then the web app's
# unit tests and the browser end-to-end run in headless Chromium.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/scripts/lib.sh"
source "$ROOT/scripts/toolchain.sh"
STACK=${PAYCHAT_STACK_DIR:-$ROOT/.stack}
cd "$ROOT"
export PAYCHAT_TEST_DATABASE_URL=${PAYCHAT_TEST_DATABASE_URL:-mysql://paychat:paychat@127.0.0.1:33306/paychat}

step "README configuration table matches config/default.toml"
python3 scripts/config-table.py --check README.md

need_cargo
need_node
# A one-off build keeps no incremental state: on a fresh CI machine it would
# only take disk (about a third of target/) and never be read again.
[ "${CI:-}" = true ] && export CARGO_INCREMENTAL=0
mkdir -p "${CARGO_TARGET_DIR:-$ROOT/target}"
disk_report "${CARGO_TARGET_DIR:-$ROOT/target}"
"$ROOT/scripts/stack.sh" up
cleanup() {
  "$ROOT/scripts/services.sh" down e2e >/dev/null 2>&1 || true
  [ -f "$STACK/nginx-e2e/nginx.pid" ] && kill "$(cat "$STACK/nginx-e2e/nginx.pid")" 2>/dev/null || true
  # On a CI machine nothing we started may outlive the run.
  if [ "${CI:-}" = true ]; then
    "$ROOT/scripts/services.sh" down >/dev/null 2>&1 || true
    "$ROOT/scripts/cluster.sh" down >/dev/null 2>&1 || true
    "$ROOT/scripts/stack.sh" down >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT
if ! command -v chromium >/dev/null || [ -z "$(fc-list :lang=zh family 2>/dev/null)" ]; then
  step "installing Chromium and CJK fonts for the browser tests (Debian packages)"
  apt_install "$STACK/apt-browser.log" chromium fonts-noto-cjk
fi

step "dropping test databases over an hour old (left by earlier runs)"
mariadb --no-defaults --socket="$STACK/mariadb.sock" -uroot -N -e "
  SELECT CONCAT('DROP DATABASE \`', s.schema_name, '\`;') FROM information_schema.schemata s
  LEFT JOIN information_schema.tables t ON t.table_schema = s.schema_name
  WHERE s.schema_name LIKE 'paychat\\_test\\_%'
  GROUP BY s.schema_name HAVING COALESCE(MAX(t.create_time), '2000-01-01') < NOW() - INTERVAL 1 HOUR" \
  | mariadb --no-defaults --socket="$STACK/mariadb.sock" -uroot

step "cargo fmt --check"
cargo fmt --all -- --check
step "cargo clippy --all-targets -D warnings"
cargo clippy --workspace --all-targets --quiet -- -D warnings
step "building binaries (the tests start some of them as processes)"
cargo build --workspace --bins --quiet
"$ROOT/scripts/services.sh" sandbox

step "Redis Cluster for the tests that prove the scripts on one (scripts/cluster.sh redis-up)"
"$ROOT/scripts/cluster.sh" redis-up
# Set, a missing cluster fails those tests instead of skipping them.
export PAYCHAT_TEST_REDIS_CLUSTER=redis://127.0.0.1:37101,redis://127.0.0.1:37102,redis://127.0.0.1:37103

step "Rust tests (unit and integration)"
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast
else
  cargo test --workspace --no-fail-fast
fi

step "fault matrix, short form: one pass of each fault on its own MariaDB, Redis, RabbitMQ and services"
"${CARGO_TARGET_DIR:-$ROOT/target}/debug/faults" --short

step "scale-out run: two copies of each service on a Redis Cluster and a RabbitMQ cluster (make test-cluster)"
"$ROOT/scripts/cluster.sh" test

step "docker compose config: the default, cluster and monitoring profiles"
# The compose plugin where Docker is installed; else Debian's docker-compose,
# which parses and checks the same file without a Docker engine.
if docker compose version >/dev/null 2>&1; then
  compose=(docker compose)
else
  if ! command -v docker-compose >/dev/null; then
    apt_install "$STACK/apt-compose.log" docker-compose
  fi
  compose=(docker-compose)
fi
for profile in "" cluster monitoring; do
  "${compose[@]}" ${profile:+--profile "$profile"} config --quiet
done

step "web app: lint, type check, unit tests, build"
web_deps
( cd web && npm run --silent lint && npm run --silent typecheck && npm test --silent && npm run --silent build >/dev/null )

step "browser end-to-end run (headless Chromium)"
e2e_db=paychat_test_e2e_$(date +%s)
# A fresh database wants a fresh Redis: limits, sessions and stock counts of an
# earlier run would otherwise carry over (the e2e prefix is the browser run's own).
redis-cli -p 36379 --scan --pattern 'paychat-e2e:*' | xargs -r -n 500 redis-cli -p 36379 del >/dev/null
mariadb --no-defaults --socket="$STACK/mariadb.sock" -uroot -e "CREATE DATABASE \`$e2e_db\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
export ADMIN_EMAIL=e2e-admin@paychat.test ADMIN_PASSWORD=e2e-admin-password
PAYCHAT_E2E_DATABASE_URL=mysql://paychat:paychat@127.0.0.1:33306/$e2e_db PAYCHAT_ADMIN_EMAILS=$ADMIN_EMAIL \
  "$ROOT/scripts/services.sh" up e2e
"$ROOT/scripts/edge.sh" e2e 18080 18081 18082 18083
BASE_URL=http://127.0.0.1:18080 MAIL_URL=http://127.0.0.1:8025 SCREENSHOT_DIR="$ROOT/web/test-results/screenshots" \
  node web/e2e/flow.mjs
step "all tests passed"
