#!/usr/bin/env bash
# The scale-out stack on one machine, from Debian's packages, all on 127.0.0.1,
# data, logs and pids under .stack/cluster/ (apart from the shared stack's ports):
#   scripts/cluster.sh redis-up      Redis Cluster: 3 masters 37101-37103, a replica each 37104-37106
#   scripts/cluster.sh rabbit-up     RabbitMQ cluster: nodes rq1..rq3@localhost on 38101-38103
#   scripts/cluster.sh up            both
#   scripts/cluster.sh down          stops exactly what up started
#   scripts/cluster.sh status        one line per node
#   scripts/cluster.sh failover      kills the master of the stock keys' slot; its replica takes over
#   scripts/cluster.sh rabbit-stop N stops node rqN (its VM; the other two keep the quorum)
#   scripts/cluster.sh kill NAME     SIGKILLs a service copy (chat-api-1, orders-1, payment-gateway-1...)
#   scripts/cluster.sh test          `make test-cluster`: all of the above, two copies of each
#                                    service on 19081/19091 (chat-api), 19082/19092 (orders),
#                                    19083/19093 (payment-gateway), nginx on 19080 balancing
#                                    across them, then the run in services/orders/tests/cluster.rs
# `up` on a running cluster reuses it (a stopped RabbitMQ node is started again).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/scripts/lib.sh"
DIR=${PAYCHAT_CLUSTER_DIR:-$ROOT/.stack/cluster}

REDIS_PORTS=(37101 37102 37103 37104 37105 37106)
AMQP_PORTS=(38101 38102 38103)
DIST_BASE=38200 EPMD_PORT=38369

redis_up() {
  mkdir -p "$DIR/redis"
  if port_open 37101 && redis-cli -p 37101 cluster info 2>/dev/null | grep -q cluster_state:ok; then
    step "Redis Cluster already answering on 127.0.0.1:37101-37106"; return
  fi
  step "starting Redis Cluster nodes on 127.0.0.1:${REDIS_PORTS[0]}-${REDIS_PORTS[5]}"
  for p in "${REDIS_PORTS[@]}"; do
    port_open "$p" && redis-cli -p "$p" shutdown nosave >/dev/null 2>&1 || true
    wait_port_closed "$p" 50 || true
    # A fresh cluster each time: a node with an old nodes.conf refuses "cluster create".
    rm -rf "$DIR/redis/$p"; mkdir -p "$DIR/redis/$p"
    redis_start_node "$p"
  done
  for p in "${REDIS_PORTS[@]}"; do wait_port "$p" 100 || die "Redis node $p did not start"; done
  redis-cli --cluster create $(printf '127.0.0.1:%s ' "${REDIS_PORTS[@]}") --cluster-replicas 1 --cluster-yes \
    >"$DIR/redis/create.log" 2>&1 || { tail -20 "$DIR/redis/create.log" >&2; die "redis-cli --cluster create failed"; }
  for _ in $(seq 1 100); do
    ok=1
    for p in "${REDIS_PORTS[@]}"; do redis-cli -p "$p" cluster info | grep -q cluster_state:ok || ok=0; done
    [ $ok = 1 ] && break; sleep 0.2
  done
  [ $ok = 1 ] || die "Redis Cluster not ok (log: $DIR/redis/create.log)"
  # Replicas must have synced before a failover can promote one.
  for _ in $(seq 1 100); do
    [ "$(for p in "${REDIS_PORTS[@]}"; do redis-cli -p "$p" info replication; done | grep -c 'master_link_status:up')" = 3 ] && break
    sleep 0.2
  done
  step "Redis Cluster ready: masters and replicas $(redis-cli -p 37101 cluster nodes | awk '{print $2"="$3}' | sed 's/@[0-9]*//' | sort | tr '\n' ' ')"
}

rabbit_env() {
  local n=$1
  export HOME=$DIR/rabbitmq RABBITMQ_NODENAME=rq$n@localhost RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 \
    RABBITMQ_NODE_PORT=${AMQP_PORTS[$((n - 1))]} RABBITMQ_DIST_PORT=$((DIST_BASE + n)) \
    ERL_EPMD_PORT=$EPMD_PORT ERL_EPMD_ADDRESS=127.0.0.1 \
    RABBITMQ_MNESIA_BASE=$DIR/rabbitmq/rq$n/mnesia RABBITMQ_LOG_BASE=$DIR/rabbitmq/rq$n/log \
    RABBITMQ_CONFIG_FILE=$DIR/rabbitmq/rq$n/rabbitmq RABBITMQ_ENABLED_PLUGINS_FILE=$DIR/rabbitmq/enabled_plugins \
    RABBITMQ_PID_FILE=$DIR/rabbitmq/rq$n.pid RABBITMQ_CONF_ENV_FILE=$DIR/rabbitmq/rabbitmq-env.conf \
    RABBITMQ_FEATURE_FLAGS_FILE=$DIR/rabbitmq/rq$n/feature_flags \
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS='-kernel inet_dist_use_interface {127,0,0,1}'
}
ctl() { local n=$1; shift; ( rabbit_env "$n"; /usr/lib/rabbitmq/bin/rabbitmqctl -n "rq$n@localhost" "$@" ); }

rabbit_start_node() {
  local n=$1 port=${AMQP_PORTS[$(($1 - 1))]}
  port_open "$port" && return 0
  mkdir -p "$DIR/rabbitmq/rq$n/log" "$DIR/rabbitmq/rq$n/mnesia"
  printf 'loopback_users = none\nlisteners.tcp.default = 127.0.0.1:%s\n' "$port" >"$DIR/rabbitmq/rq$n/rabbitmq.conf"
  # The three find each other at first start (classic peer discovery), no join step.
  printf 'cluster_formation.peer_discovery_backend = classic_config\n' >>"$DIR/rabbitmq/rq$n/rabbitmq.conf"
  for m in 1 2 3; do printf 'cluster_formation.classic_config.nodes.%s = rq%s@localhost\n' $m $m >>"$DIR/rabbitmq/rq$n/rabbitmq.conf"; done
  ( rabbit_env "$n"; nohup /usr/lib/rabbitmq/bin/rabbitmq-server >"$DIR/rabbitmq/rq$n.out" 2>&1 & )
}

rabbit_up() {
  mkdir -p "$DIR/rabbitmq"
  if port_open 38101 && port_open 38102 && port_open 38103; then
    step "RabbitMQ cluster already answering on 127.0.0.1:38101-38103"; return
  fi
  if [ -f "$DIR/rabbitmq/.users-created" ]; then
    # A node stopped by an earlier run: it rejoins the other two by itself.
    step "starting the RabbitMQ nodes that are down"
  fi
  step "starting RabbitMQ nodes rq1..rq3@localhost on 127.0.0.1:38101-38103 (takes a while on 2 cores)"
  : >"$DIR/rabbitmq/rabbitmq-env.conf"
  printf '[].\n' >"$DIR/rabbitmq/enabled_plugins"
  for n in 1 2 3; do rabbit_start_node $n; done
  for n in 1 2 3; do
    wait_port "${AMQP_PORTS[$((n - 1))]}" 1200 || { tail -30 "$DIR/rabbitmq/rq$n.out" >&2; die "RabbitMQ node rq$n did not start"; }
  done
  ctl 1 await_startup >/dev/null
  if [ ! -f "$DIR/rabbitmq/.users-created" ]; then
    ctl 1 add_user paychat paychat >/dev/null 2>&1 || true
    ctl 1 add_vhost paychat >/dev/null 2>&1 || true
    ctl 1 set_permissions -p paychat paychat '.*' '.*' '.*' >/dev/null
    touch "$DIR/rabbitmq/.users-created"
  fi
  local members
  members=$(ctl 1 cluster_status --formatter json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["running_nodes"]))')
  [ "$members" = 3 ] || die "RabbitMQ cluster has $members running nodes, not 3 (logs: $DIR/rabbitmq/rq*/log)"
  step "RabbitMQ cluster ready: 3 running nodes"
}

rabbit_stop() {
  local n=$1
  port_open "${AMQP_PORTS[$((n - 1))]}" || return 0
  ctl "$n" stop >/dev/null 2>&1 || { [ -f "$DIR/rabbitmq/rq$n.pid" ] && kill "$(cat "$DIR/rabbitmq/rq$n.pid")" 2>/dev/null; }
  wait_port_closed "${AMQP_PORTS[$((n - 1))]}" 200 || true
}

redis_start_node() {
  local p=$1
  redis-server --bind 127.0.0.1 --port "$p" --cluster-enabled yes --cluster-config-file nodes.conf \
    --cluster-node-timeout 2000 --dir "$DIR/redis/$p" --appendonly yes --appendfsync everysec --save '' \
    --daemonize yes --pidfile "$DIR/redis/$p/redis.pid" --logfile "$DIR/redis/$p/redis.log" >/dev/null
}

failover() {
  # The master serving the stock keys' slot ({stock}) dies (SIGKILL); the cluster promotes its replica
  # once the node timeout (2 s) passes. Then the dead node is started again and
  # rejoins as a replica, so the next run finds three masters with a replica each.
  local master port replica seen
  local slot; slot=$(redis-cli -p 37102 cluster keyslot '{stock}')
  master=$(redis-cli -p 37102 cluster nodes | awk -v s="$slot" '$3 ~ /master/ && $3 !~ /fail/ {
    for (i = 9; i <= NF; i++) { split($i, r, "-"); if (r[2] == "") r[2] = r[1]; if (s >= r[1] && s <= r[2]) { print $1" "$2; exit } } }')
  port=$(echo "$master" | awk '{split($2, a, "[:@]"); print a[2]}')
  replica=$(redis-cli -p 37102 cluster nodes | awk -v m="${master%% *}" '$4 == m {split($2, a, "[:@]"); print a[2]; exit}')
  [ -n "$port" ] && [ -n "$replica" ] || die "no master with a replica found for slot $slot"
  kill -9 "$(cat "$DIR/redis/$port/redis.pid")"
  for _ in $(seq 1 200); do redis-cli -p "$replica" role 2>/dev/null | head -1 | grep -q master && break; sleep 0.1; done
  redis-cli -p "$replica" role | head -1 | grep -q master || die "replica $replica was not promoted"
  seen=$(redis-cli -p "$replica" cluster info | awk -F: '/cluster_state/ {print $2}' | tr -d '\r')
  redis_start_node "$port"
  # Until it has taken its new role, the old master still believes its stale
  # slot map, and a client asking it could be sent to it; wait for that to pass.
  for _ in $(seq 1 200); do
    redis-cli -p "$port" info replication 2>/dev/null | grep -q 'master_link_status:up' && break; sleep 0.1
  done
  redis-cli -p "$port" info replication | grep -q 'master_link_status:up' || die "$port did not rejoin as a replica"
  echo "master $port killed, replica $replica promoted, cluster_state $seen; $port restarted and synced as a replica"
}

down() {
  for n in 3 2 1; do rabbit_stop $n; done
  ( rabbit_env 1; epmd -port $EPMD_PORT -kill >/dev/null 2>&1 || true )
  for p in "${REDIS_PORTS[@]}"; do
    if [ -f "$DIR/redis/$p/redis.pid" ]; then kill "$(cat "$DIR/redis/$p/redis.pid")" 2>/dev/null || true; fi
  done
  for p in "${REDIS_PORTS[@]}"; do wait_port_closed "$p" 50 || true; done
}

status() {
  for p in "${REDIS_PORTS[@]}"; do
    if port_open "$p"; then echo "redis $p: $(redis-cli -p "$p" role | head -1)"; else echo "redis $p: down"; fi
  done
  for n in 1 2 3; do
    if port_open "${AMQP_PORTS[$((n - 1))]}"; then echo "rabbitmq rq$n: up"; else echo "rabbitmq rq$n: down"; fi
  done
}

REDIS_NODES=redis://127.0.0.1:37101,redis://127.0.0.1:37102,redis://127.0.0.1:37103
AMQP_URLS=amqp://paychat:paychat@127.0.0.1:38101/paychat,amqp://paychat:paychat@127.0.0.1:38102/paychat,amqp://paychat:paychat@127.0.0.1:38103/paychat
EDGE_PORT=19080

# start_copy NAME PORT BINARY: one copy of a service against the cluster.
start_copy() {
  local name=$1 port=$2 bin=$3
  ( cd "$ROOT"; nohup "${CARGO_TARGET_DIR:-$ROOT/target}/debug/$bin" >"$DIR/logs/$name.log" 2>&1 & echo $! >"$DIR/pids/$name.pid" )
}

services_up() {
  mkdir -p "$DIR/logs" "$DIR/pids"
  services_down
  export PAYCHAT_DATABASE_URL=$CLUSTER_DB PAYCHAT_REDIS_CLUSTER_NODES=$REDIS_NODES PAYCHAT_REDIS_PREFIX=$REDIS_PREFIX \
    PAYCHAT_AMQP_URL=${AMQP_URLS%%,*} PAYCHAT_AMQP_URLS=$AMQP_URLS PAYCHAT_AMQP_QUEUE_TYPE=quorum \
    PAYCHAT_ORDER_DELAY_MODE=ttl PAYCHAT_AMQP_PREFIX=$AMQP_PREFIX PAYCHAT_LOG_LEVEL=warn \
    PAYCHAT_STOCK_RECONCILE_INTERVAL_SECS=5 \
    PAYCHAT_GATEWAY_URL=http://127.0.0.1:$EDGE_PORT PAYCHAT_ALIPAY_NOTIFY_URL=http://127.0.0.1:$EDGE_PORT/api/alipay/notify \
    PAYCHAT_PUBLIC_BASE_URL=http://127.0.0.1:$EDGE_PORT PAYCHAT_WEB_BASE_URL=http://127.0.0.1:$EDGE_PORT
  # Every copy starts at once on the empty database: they take turns on the
  # migration lock (paychat_common::db::migrate).
  for copy in 1 2; do
    local off=$(( (copy - 1) * 10 ))
    PAYCHAT_ORDERS_BIND=127.0.0.1:$((19082 + off)) start_copy orders-$copy $((19082 + off)) paychat-orders
    PAYCHAT_CHAT_BIND=127.0.0.1:$((19081 + off)) start_copy chat-api-$copy $((19081 + off)) paychat-chat-api
    PAYCHAT_GATEWAY_BIND=127.0.0.1:$((19083 + off)) start_copy payment-gateway-$copy $((19083 + off)) paychat-payment-gateway
  done
  for port in 19081 19082 19083 19091 19092 19093; do
    for _ in $(seq 1 600); do curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
    curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null || die "the copy on $port is not ready (logs: $DIR/logs)"
  done
  step "started two copies each: chat-api 19081 19091, orders 19082 19092, payment-gateway 19083 19093 (pids: $(cat "$DIR"/pids/*.pid | tr '\n' ' '))"
}

edge_up() {
  local prefix=$DIR/nginx
  mkdir -p "$prefix/tmp" "$prefix/empty"
  [ -f "$prefix/nginx.pid" ] && kill "$(cat "$prefix/nginx.pid")" 2>/dev/null && wait_port_closed $EDGE_PORT 50
  echo '<p>cluster run</p>' >"$prefix/empty/index.html"
  sed -e "s#@PREFIX@#$prefix#g" -e "s#@LISTEN_PORT@#$EDGE_PORT#g" -e "s#@WEB_ROOT@#$prefix/empty#g" \
      -e "s#server 127.0.0.1:@CHAT_PORT@;#server 127.0.0.1:19081; server 127.0.0.1:19091;#" \
      -e "s#server 127.0.0.1:@ORDERS_PORT@;#server 127.0.0.1:19082; server 127.0.0.1:19092;#" \
      -e "s#server 127.0.0.1:@GATEWAY_PORT@;#server 127.0.0.1:19083; server 127.0.0.1:19093;#" \
      -e "s#^\(  upstream [a-z_]* {\)#\1 random;#" \
      -e "s#access_log $prefix/access.log;#log_format upstreams '\$upstream_addr \$status \$request_method \$uri'; access_log $prefix/access.log upstreams;#" \
      "$ROOT/deploy/nginx.conf.template" >"$prefix/nginx.conf"
  : >"$prefix/access.log"
  nginx -t -q -p "$prefix" -c "$prefix/nginx.conf" 2>"$prefix/check.log" || { cat "$prefix/check.log" >&2; die "nginx config check failed"; }
  nohup nginx -p "$prefix" -c "$prefix/nginx.conf" >"$prefix/stdout.log" 2>&1 &
  wait_port $EDGE_PORT 50 || die "nginx did not start"
  # Random, not round robin: orders' call to the gateway and the notify that
  # follows it would otherwise alternate in step, every notify on one copy.
  step "started nginx on 127.0.0.1:$EDGE_PORT, balancing at random over both copies of each service"
}

kill_copy() {
  local pidfile=$DIR/pids/$1.pid
  [ -f "$pidfile" ] || die "no pid file for $1"
  kill -9 "$(cat "$pidfile")" 2>/dev/null || true
  echo "pid $(cat "$pidfile")"
  rm -f "$pidfile"
}

services_down() {
  for f in "$DIR"/pids/*.pid; do
    [ -f "$f" ] || continue
    kill "$(cat "$f")" 2>/dev/null || true
    rm -f "$f"
  done
  [ -f "$DIR/nginx/nginx.pid" ] && kill "$(cat "$DIR/nginx/nginx.pid")" 2>/dev/null || true
  return 0
}

cluster_test() {
  local started=$SECONDS
  mkdir -p "$DIR"
  redis_up
  rabbit_up
  step "building the services (debug)"
  ( cd "$ROOT" && cargo build --quiet -p paychat-chat-api -p paychat-orders -p paychat-payment-gateway --bins )
  "$ROOT/scripts/services.sh" sandbox >/dev/null
  local run; run=$(date +%s)
  CLUSTER_DB=mysql://paychat:paychat@127.0.0.1:33306/paychat_test_cluster_$run
  REDIS_PREFIX=paychat-cluster-$run: AMQP_PREFIX=paychat-cluster-$run
  mariadb --no-defaults --socket="$ROOT/.stack/mariadb.sock" -uroot \
    -e "CREATE DATABASE paychat_test_cluster_$run CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
  step "database paychat_test_cluster_$run, Redis prefix $REDIS_PREFIX, AMQP prefix $AMQP_PREFIX (quorum queues)"
  trap services_down EXIT
  services_up
  edge_up
  step "infrastructure and services up after $((SECONDS - started)) s; running the flash sale and payments"
  ( cd "$ROOT" && PAYCHAT_CLUSTER_EDGE=http://127.0.0.1:$EDGE_PORT PAYCHAT_CLUSTER_DATABASE_URL=$CLUSTER_DB \
      PAYCHAT_CLUSTER_REDIS_NODES=$REDIS_NODES PAYCHAT_CLUSTER_REDIS_PREFIX=$REDIS_PREFIX \
      timeout 300 cargo test --quiet -p paychat-orders --test cluster -- --nocapture )
  step "requests per copy as nginx sent them (upstream, status, route):"
  awk '{ r = $4; sub(/[0-9]{6,}/, "{id}", r); print $1, $2, $3, r }' "$DIR/nginx/access.log" | sort | uniq -c | sort -k2 | sed 's/^/    /'
  step "cluster run passed in $((SECONDS - started)) s"
}

case "${1:-up}" in
  redis-up) redis_up ;;
  rabbit-up) rabbit_up ;;
  up) redis_up; rabbit_up ;;
  down) down ;;
  status) status ;;
  failover) failover ;;
  rabbit-stop) rabbit_stop "${2:?node number}" ;;
  kill) kill_copy "${2:?copy name}" ;;
  test) cluster_test ;;
  services-down) services_down ;;
  rabbit-start) rabbit_start_node "${2:?node number}"; wait_port "${AMQP_PORTS[$(($2 - 1))]}" 1200 ;;
  *) die "usage: $0 up|redis-up|rabbit-up|down|status|failover|rabbit-stop N|rabbit-start N" ;;
esac
