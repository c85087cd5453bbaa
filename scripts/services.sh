#!/usr/bin/env bash
# Starts and stops PayChat's own processes (built by cargo into target/debug):
#   scripts/services.sh sandbox            mail sink 2525/8025, LLM 8091, Alipay 8092, OIDC/GitHub 8093,
#                                          S3-compatible store 8094 (s3s-fs, data in .stack/s3)
#   scripts/services.sh up ENV             the services of ENV (run: 8081-8083, e2e: 18081-18083)
#   scripts/services.sh down [ENV|sandbox] stop what was started (all when no argument)
# Each process logs to .stack/logs/NAME.log and its pid is kept in .stack/pids/NAME.pid.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
STACK=${PAYCHAT_STACK_DIR:-$ROOT/.stack}
BIN=${CARGO_TARGET_DIR:-$ROOT/target}/debug
source "$ROOT/scripts/lib.sh"
mkdir -p "$STACK/logs" "$STACK/pids"

# start NAME PORT BINARY [ARGS...] — environment comes from the caller.
start() {
  local name=$1 port=$2 bin=$3; shift 3
  local pidfile=$STACK/pids/$name.pid
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null && port_open "$port"; then
    step "$name already running on 127.0.0.1:$port"; return
  fi
  port_open "$port" && die "port $port is taken by another process; $name cannot start"
  [ -x "$BIN/$bin" ] || die "$BIN/$bin is missing: build it with cargo build --bins"
  step "starting $name on 127.0.0.1:$port"
  ( cd "$ROOT"; nohup "$BIN/$bin" "$@" >"$STACK/logs/$name.log" 2>&1 & echo $! >"$pidfile" )
  wait_port "$port" 600 || { tail -20 "$STACK/logs/$name.log" >&2; die "$name did not start (log: $STACK/logs/$name.log)"; }
}

stop() {
  local name=$1 pidfile=$STACK/pids/$1.pid
  [ -f "$pidfile" ] || return 0
  local pid; pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    step "stopping $name"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}

SANDBOX=(sandbox-mail sandbox-llm sandbox-alipay sandbox-oidc s3)

# The S3-compatible store of avatars: s3s-fs from crates.io, built once into
# a project-local root (a few minutes) and reused after that. 0.14.1 is the
# newest that builds with this toolchain (0.17 needs rustc 1.96).
S3S_VERSION=0.14.1
TOOLS=${PAYCHAT_TOOLS_DIR:-$STACK/tools}
S3S=$TOOLS/bin/s3s-fs
s3_tool() {
  if [ -x "$S3S" ] && "$S3S" --version 2>/dev/null | grep -q " $S3S_VERSION\$"; then return; fi
  step "installing s3s-fs $S3S_VERSION into $TOOLS (once; takes a few minutes)"
  cargo install s3s-fs --version "$S3S_VERSION" --locked --features binary --quiet \
    --root "$TOOLS" --target-dir "$TOOLS/build"
  rm -rf "$TOOLS/build"
}

# s3_up: the store on 127.0.0.1:8094 with the avatar bucket (a folder of its data root).
s3_up() {
  local pidfile=$STACK/pids/s3.pid
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null && port_open 8094; then
    step "s3 already running on 127.0.0.1:8094"; return
  fi
  port_open 8094 && die "port 8094 is taken by another process; s3 cannot start"
  s3_tool
  mkdir -p "$STACK/s3/paychat-avatars"
  step "starting s3 (s3s-fs) on 127.0.0.1:8094"
  ( cd "$ROOT"; nohup "$S3S" --host 127.0.0.1 --port 8094 \
      --access-key "${PAYCHAT_AVATAR_S3_ACCESS_KEY:-paychat}" \
      --secret-key "${PAYCHAT_AVATAR_S3_SECRET_KEY:-paychat-s3-secret-not-real}" \
      "$STACK/s3" >"$STACK/logs/s3.log" 2>&1 & echo $! >"$pidfile" )
  wait_port 8094 100 || { tail -20 "$STACK/logs/s3.log" >&2; die "s3 did not start (log: $STACK/logs/s3.log)"; }
}
SERVICES=(chat-api orders payment-gateway)

sandbox_up() {
  PAYCHAT_SANDBOX_MAIL_SMTP=127.0.0.1:2525 PAYCHAT_SANDBOX_MAIL_HTTP=127.0.0.1:8025 \
    start sandbox-mail 8025 paychat-sandbox-mail
  start sandbox-llm 8091 paychat-sandbox-llm --listen 127.0.0.1:8091
  start sandbox-alipay 8092 paychat-sandbox-alipay
  start sandbox-oidc 8093 paychat-sandbox-oidc --listen 127.0.0.1:8093
  s3_up
}

# services_up ENV: each service on its port, against ENV's database and prefixes.
services_up() {
  local env=$1 base
  case "$env" in
    run) base=8080 ;;
    e2e) base=18080
      # The browser run gets a database of its own, never run's data.
      export PAYCHAT_DATABASE_URL=${PAYCHAT_E2E_DATABASE_URL:?set PAYCHAT_E2E_DATABASE_URL}
      export PAYCHAT_REDIS_PREFIX=paychat-e2e: PAYCHAT_AMQP_PREFIX=paychat-e2e
      export PAYCHAT_AMQP_URL=amqp://paychat:paychat@127.0.0.1:35672/paychat_test
      export PAYCHAT_PUBLIC_BASE_URL=http://127.0.0.1:18080 PAYCHAT_WEB_BASE_URL=http://127.0.0.1:18080
      export PAYCHAT_GATEWAY_URL=http://127.0.0.1:18083 PAYCHAT_ALIPAY_NOTIFY_URL=http://127.0.0.1:18083/api/alipay/notify ;;
    *) die "unknown environment $env" ;;
  esac
  PAYCHAT_CHAT_BIND=127.0.0.1:$((base + 1)) start "chat-api-$env" $((base + 1)) paychat-chat-api
  PAYCHAT_ORDERS_BIND=127.0.0.1:$((base + 2)) start "orders-$env" $((base + 2)) paychat-orders
  PAYCHAT_GATEWAY_BIND=127.0.0.1:$((base + 3)) start "payment-gateway-$env" $((base + 3)) paychat-payment-gateway
}

services_down() {
  for s in "${SERVICES[@]}"; do stop "$s-$1"; done
}

case "${1:-}" in
  sandbox) sandbox_up ;;
  up) services_up "${2:?environment}" ;;
  down)
    case "${2:-all}" in
      sandbox) for s in "${SANDBOX[@]}"; do stop "$s"; done ;;
      all) services_down run; services_down e2e; for s in "${SANDBOX[@]}"; do stop "$s"; done ;;
      *) services_down "$2" ;;
    esac ;;
  *) die "usage: $0 sandbox | up ENV | down [ENV|sandbox]" ;;
esac
