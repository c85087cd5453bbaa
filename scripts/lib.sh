# Shared helpers for the scripts: one printed line per step, port waits, root.
# Debian puts the servers (mariadbd, nginx) in /usr/sbin, which a CI PATH may lack.
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
step() { printf '==> %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# wait_port PORT [TENTHS_OF_SECONDS]
wait_port() { local n=${2:-100}; for _ in $(seq 1 "$n"); do port_open "$1" && return 0; sleep 0.1; done; return 1; }
wait_port_closed() { local n=${2:-100}; for _ in $(seq 1 "$n"); do port_open "$1" || return 0; sleep 0.1; done; return 1; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
