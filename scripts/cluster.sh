#!/usr/bin/env bash
# The scale-out stack on one machine, from Debian's packages, all on 127.0.0.1,
# data, logs and pids under .stack/cluster/ (apart from the shared stack's ports):
#   scripts/cluster.sh redis-up      Redis Cluster: 3 masters 37101-37103, a replica each 37104-37106
#   scripts/cluster.sh rabbit-up     RabbitMQ cluster: nodes rq1..rq3@localhost on 38101-38103
#   scripts/cluster.sh up            both
#   scripts/cluster.sh down          stops exactly what up started
#   scripts/cluster.sh status        one line per node
#   scripts/cluster.sh failover      promotes the replica of the master of slot 0 (a forced failover)
#   scripts/cluster.sh rabbit-stop N stops node rqN (its VM; the other two keep the quorum)
# `up` on a running cluster reuses it. The services' copies and nginx are
# started by the cluster test program itself (services/cluster-test).
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
    redis-server --bind 127.0.0.1 --port "$p" --cluster-enabled yes --cluster-config-file nodes.conf \
      --cluster-node-timeout 2000 --dir "$DIR/redis/$p" --appendonly yes --appendfsync everysec --save '' \
      --daemonize yes --pidfile "$DIR/redis/$p/redis.pid" --logfile "$DIR/redis/$p/redis.log" >/dev/null
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

failover() {
  # The replica of whichever master serves slot 0 takes over (CLUSTER FAILOVER
  # FORCE: as when its master has died, without waiting for votes).
  local master replica
  master=$(redis-cli -p 37101 cluster nodes | awk '$3 ~ /master/ && $9 ~ /^0-/ {print $1; exit}')
  replica=$(redis-cli -p 37101 cluster nodes | awk -v m="$master" '$4 == m {split($2, a, "[:@]"); print a[2]; exit}')
  [ -n "$replica" ] || die "no replica found for the master of slot 0"
  redis-cli -p "$replica" cluster failover force >/dev/null
  for _ in $(seq 1 100); do redis-cli -p "$replica" role | head -1 | grep -q master && break; sleep 0.1; done
  echo "$replica"
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

case "${1:-up}" in
  redis-up) redis_up ;;
  rabbit-up) rabbit_up ;;
  up) redis_up; rabbit_up ;;
  down) down ;;
  status) status ;;
  failover) failover ;;
  rabbit-stop) rabbit_stop "${2:?node number}" ;;
  rabbit-start) rabbit_start_node "${2:?node number}"; wait_port "${AMQP_PORTS[$(($2 - 1))]}" 1200 ;;
  *) die "usage: $0 up|redis-up|rabbit-up|down|status|failover|rabbit-stop N|rabbit-start N" ;;
esac
