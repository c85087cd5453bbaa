#!/usr/bin/env bash
# Starts the nginx edge for one environment.
#   scripts/edge.sh NAME LISTEN_PORT CHAT_PORT ORDERS_PORT GATEWAY_PORT
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
STACK=${PAYCHAT_STACK_DIR:-$ROOT/.stack}
source "$ROOT/scripts/lib.sh"
name=$1 listen=$2 chat=$3 orders=$4 gateway=$5
prefix=$STACK/nginx-$name
web_root=$ROOT/web/dist
[ -d "$web_root" ] || { mkdir -p "$prefix/empty"; echo '<p>web app not built: run make run</p>' >"$prefix/empty/index.html"; web_root=$prefix/empty; }
if [ -f "$prefix/nginx.pid" ] && kill -0 "$(cat "$prefix/nginx.pid")" 2>/dev/null; then
  kill "$(cat "$prefix/nginx.pid")"; wait_port_closed "$listen" 50 || true
fi
mkdir -p "$prefix/tmp"
sed -e "s#@PREFIX@#$prefix#g" -e "s#@LISTEN_PORT@#$listen#g" -e "s#@CHAT_PORT@#$chat#g" \
    -e "s#@ORDERS_PORT@#$orders#g" -e "s#@GATEWAY_PORT@#$gateway#g" -e "s#@WEB_ROOT@#$web_root#g" \
    "$ROOT/deploy/nginx.conf.template" >"$prefix/nginx.conf"
nginx -t -q -p "$prefix" -c "$prefix/nginx.conf" 2>"$prefix/check.log" || { cat "$prefix/check.log" >&2; die "nginx config check failed"; }
step "starting nginx ($name) on 127.0.0.1:$listen"
nohup nginx -p "$prefix" -c "$prefix/nginx.conf" >"$prefix/stdout.log" 2>&1 &
wait_port "$listen" 50 || die "nginx did not start (log: $prefix/error.log)"
