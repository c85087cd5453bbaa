#!/usr/bin/env bash
# `make run`: the whole platform on this machine, sandbox stand-ins included,
# ready at http://localhost:8080. Safe to run again: what runs is restarted cleanly.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/scripts/lib.sh"
source "$ROOT/scripts/toolchain.sh"
cd "$ROOT"

need_cargo
need_node
"$ROOT/scripts/stack.sh" up
step "building the services and sandbox (cargo build --bins)"
cargo build --workspace --bins --quiet
step "building the web app"
web_deps
( cd web && npm run --silent build >/dev/null )
# Fresh binaries: restart our processes, keep the infrastructure.
"$ROOT/scripts/services.sh" down run
"$ROOT/scripts/services.sh" down sandbox
"$ROOT/scripts/services.sh" sandbox
export PAYCHAT_ADMIN_EMAILS=${PAYCHAT_ADMIN_EMAILS:-admin@paychat.local}
# demo-seed.py registers the first address of the list; that is the one to log in with.
admin=${PAYCHAT_ADMIN_EMAILS%%,*}
admin=${admin//[[:space:]]/}
"$ROOT/scripts/services.sh" up run
"$ROOT/scripts/edge.sh" run 8080 8081 8082 8083
PAYCHAT_STACK_DIR=${PAYCHAT_STACK_DIR:-$ROOT/.stack} python3 "$ROOT/scripts/demo-seed.py"
cat <<MSG

PayChat is running.
  app            http://localhost:8080
  mail viewer    http://localhost:8025   (verification and redemption-code emails land here)
  sandbox Alipay http://localhost:8092   (the QR code's buyer page, with a Pay button)
  sandbox OIDC   http://127.0.0.1:8093  (sign-in providers: test users listed at /sim/users)
  avatar store   http://127.0.0.1:8094  (s3s-fs, S3 API; files under .stack/s3/)
  admin          $admin (PAYCHAT_ADMIN_EMAILS); its password is in .stack/run-admin
Logs: .stack/logs/   Stop everything: make stop
MSG
