#!/usr/bin/env bash
# The project-local infrastructure: MariaDB, Redis and RabbitMQ on loopback,
# non-default ports, all data, logs and pids under .stack/ (git-ignored).
#   scripts/stack.sh up       install what is missing, start what is not running, create users
#   scripts/stack.sh down     stop exactly what `up` started
#   scripts/stack.sh status   one line per service
#   scripts/stack.sh stop NAME stop one of them (mariadb, redis, rabbitmq); `up` starts it again
# Running `up` twice is harmless: a service that already answers is reused.
# A second stack (the fault matrix's, which it kills and restarts) runs beside the
# shared one with PAYCHAT_STACK_DIR and the PAYCHAT_STACK_*_PORT variables below.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
STACK=${PAYCHAT_STACK_DIR:-$ROOT/.stack}
source "$ROOT/scripts/lib.sh"

DB_PORT=${PAYCHAT_STACK_DB_PORT:-33306} REDIS_PORT=${PAYCHAT_STACK_REDIS_PORT:-36379}
AMQP_PORT=${PAYCHAT_STACK_AMQP_PORT:-35672} AMQP_DIST_PORT=${PAYCHAT_STACK_AMQP_DIST_PORT:-35673}
EPMD_PORT=${PAYCHAT_STACK_EPMD_PORT:-34369} RABBIT_NODE=${PAYCHAT_STACK_RABBIT_NODE:-paychat@localhost}

need_packages() {
  local missing=()
  command -v mariadbd >/dev/null || missing+=(mariadb-server)
  command -v redis-server >/dev/null || missing+=(redis-server)
  [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || missing+=(rabbitmq-server)
  command -v nginx >/dev/null || missing+=(nginx)
  command -v python3 >/dev/null || missing+=(python3)
  if [ ${#missing[@]} -gt 0 ]; then
    step "installing Debian packages: ${missing[*]}"
    apt_install "$STACK/apt.log" "${missing[@]}"
  fi
}

start_mariadb() {
  if port_open $DB_PORT; then step "MariaDB already answering on 127.0.0.1:$DB_PORT"; return; fi
  local data=$STACK/mariadb user; user=$(id -un)
  if [ ! -d "$data/mysql" ]; then
    step "initialising MariaDB data in $data"
    mkdir -p "$data"
    mariadb-install-db --no-defaults --datadir="$data" --user="$user" --auth-root-authentication-method=socket \
      --skip-test-db >"$STACK/mariadb-init.log" 2>&1 || { tail -20 "$STACK/mariadb-init.log" >&2; die "mariadb-install-db failed"; }
  fi
  step "starting MariaDB on 127.0.0.1:$DB_PORT"
  nohup mariadbd --no-defaults --datadir="$data" --user="$user" --bind-address=127.0.0.1 --port=$DB_PORT \
    --socket="$STACK/mariadb.sock" --pid-file="$STACK/mariadb.pid" --skip-name-resolve --max-connections=2000 \
    --innodb-buffer-pool-size=${PAYCHAT_STACK_DB_BUFFER_POOL:-512M} --innodb-flush-log-at-trx-commit=2 --character-set-server=utf8mb4 \
    --collation-server=utf8mb4_unicode_ci --log-error="$STACK/mariadb.log" >/dev/null 2>&1 &
  wait_port $DB_PORT 150 || die "MariaDB did not start (log: $STACK/mariadb.log)"
  for _ in $(seq 1 50); do mariadb-admin --no-defaults --socket="$STACK/mariadb.sock" -uroot ping >/dev/null 2>&1 && break; sleep 0.2; done
  step "creating the paychat database and user"
  mariadb --no-defaults --socket="$STACK/mariadb.sock" -uroot <<'SQL'
CREATE DATABASE IF NOT EXISTS paychat CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS 'paychat'@'127.0.0.1' IDENTIFIED BY 'paychat';
CREATE USER IF NOT EXISTS 'paychat'@'localhost' IDENTIFIED BY 'paychat';
GRANT ALL ON paychat.* TO 'paychat'@'127.0.0.1';
GRANT ALL ON `paychat\_test\_%`.* TO 'paychat'@'127.0.0.1';
GRANT ALL ON paychat.* TO 'paychat'@'localhost';
GRANT ALL ON `paychat\_test\_%`.* TO 'paychat'@'localhost';
SQL
}

start_redis() {
  if port_open $REDIS_PORT; then step "Redis already answering on 127.0.0.1:$REDIS_PORT"; return; fi
  step "starting Redis on 127.0.0.1:$REDIS_PORT"
  mkdir -p "$STACK/redis"
  # Append-only, fsync every second, as production's Redis must be: a restart
  # keeps stock counts, sessions and limits (a lost second is repaired by reconciliation).
  nohup redis-server --bind 127.0.0.1 --port $REDIS_PORT --save '' --appendonly yes --appendfsync everysec --dir "$STACK/redis" \
    --pidfile "$STACK/redis.pid" --logfile "$STACK/redis.log" --maxclients 10000 >/dev/null 2>&1 &
  echo $! >"$STACK/redis.pid"
  wait_port $REDIS_PORT 100 || die "Redis did not start (log: $STACK/redis.log)"
}

rabbit_env() {
  export HOME=$STACK/rabbitmq RABBITMQ_NODENAME=$RABBIT_NODE RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 \
    RABBITMQ_NODE_PORT=$AMQP_PORT RABBITMQ_DIST_PORT=$AMQP_DIST_PORT ERL_EPMD_PORT=$EPMD_PORT ERL_EPMD_ADDRESS=127.0.0.1 \
    RABBITMQ_MNESIA_BASE=$STACK/rabbitmq/mnesia RABBITMQ_LOG_BASE=$STACK/rabbitmq/log \
    RABBITMQ_CONFIG_FILE=$STACK/rabbitmq/rabbitmq RABBITMQ_ENABLED_PLUGINS_FILE=$STACK/rabbitmq/enabled_plugins \
    RABBITMQ_PID_FILE=$STACK/rabbitmq.pid RABBITMQ_CONF_ENV_FILE=$STACK/rabbitmq/rabbitmq-env.conf \
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS='-kernel inet_dist_use_interface {127,0,0,1}'
}

rabbitmqctl_() { ( rabbit_env; /usr/lib/rabbitmq/bin/rabbitmqctl "$@" ); }

start_rabbitmq() {
  if port_open $AMQP_PORT; then step "RabbitMQ already answering on 127.0.0.1:$AMQP_PORT"; return; fi
  step "starting RabbitMQ on 127.0.0.1:$AMQP_PORT (takes a few seconds)"
  mkdir -p "$STACK/rabbitmq/log" "$STACK/rabbitmq/mnesia"
  : >"$STACK/rabbitmq/rabbitmq-env.conf"
  printf '[].\n' >"$STACK/rabbitmq/enabled_plugins"
  printf 'loopback_users = none\nlisteners.tcp.default = 127.0.0.1:%s\n' $AMQP_PORT >"$STACK/rabbitmq/rabbitmq.conf"
  ( rabbit_env; nohup /usr/lib/rabbitmq/bin/rabbitmq-server >"$STACK/rabbitmq.log" 2>&1 & )
  wait_port $AMQP_PORT 600 || { tail -30 "$STACK/rabbitmq.log" >&2; die "RabbitMQ did not start (log: $STACK/rabbitmq.log)"; }
  rabbitmqctl_ await_startup >/dev/null
  if [ ! -f "$STACK/rabbitmq/.users-created" ]; then
    step "creating RabbitMQ user paychat and vhosts paychat, paychat_test"
    rabbitmqctl_ add_user paychat paychat >/dev/null 2>&1 || true
    for vhost in paychat paychat_test; do
      rabbitmqctl_ add_vhost $vhost >/dev/null 2>&1 || true
      rabbitmqctl_ set_permissions -p $vhost paychat '.*' '.*' '.*' >/dev/null
    done
    touch "$STACK/rabbitmq/.users-created"
  fi
}

up() {
  mkdir -p "$STACK"
  need_packages
  start_mariadb
  start_redis
  start_rabbitmq
  step "infrastructure ready: MariaDB 127.0.0.1:$DB_PORT, Redis 127.0.0.1:$REDIS_PORT, RabbitMQ 127.0.0.1:$AMQP_PORT"
}

down() {
  if port_open $AMQP_PORT; then step "stopping RabbitMQ"; rabbitmqctl_ stop >/dev/null 2>&1 || true; fi
  ( rabbit_env; epmd -port $EPMD_PORT -kill >/dev/null 2>&1 || true )
  for name in redis mariadb; do
    if [ -f "$STACK/$name.pid" ]; then
      step "stopping $name"
      kill "$(cat "$STACK/$name.pid")" 2>/dev/null || true
      rm -f "$STACK/$name.pid"
    fi
  done
  for port in $DB_PORT $REDIS_PORT $AMQP_PORT; do wait_port_closed $port 100 || true; done
}

# stop_one NAME: one service of this stack, so a fault run can restart it with `up`.
stop_one() {
  case "$1" in
    rabbitmq) if port_open $AMQP_PORT; then step "stopping RabbitMQ"; rabbitmqctl_ stop >/dev/null 2>&1 || true; fi
      wait_port_closed $AMQP_PORT 300 || true ;;
    redis|mariadb)
      if [ -f "$STACK/$1.pid" ]; then
        step "stopping $1"
        kill "$(cat "$STACK/$1.pid")" 2>/dev/null || true
        rm -f "$STACK/$1.pid"
      fi
      local port=$REDIS_PORT; [ "$1" = mariadb ] && port=$DB_PORT
      wait_port_closed $port 300 || die "$1 did not stop" ;;
    *) die "usage: $0 stop mariadb|redis|rabbitmq" ;;
  esac
}

status() {
  for svc in "MariaDB $DB_PORT" "Redis $REDIS_PORT" "RabbitMQ $AMQP_PORT"; do
    set -- $svc
    if port_open "$2"; then echo "$1: up (127.0.0.1:$2)"; else echo "$1: down"; fi
  done
}

case "${1:-up}" in
  up) up ;;
  down) down ;;
  status) status ;;
  stop) stop_one "${2:-}" ;;
  *) die "usage: $0 up|down|status|stop NAME" ;;
esac
