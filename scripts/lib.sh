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
# apt_install LOG PACKAGE...: Debian packages, quietly; the downloaded .deb files
# are dropped afterwards, since a CI machine's disk may be tight and the build needs it.
apt_install() {
  local log=$1; shift
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "$@" >"$log" 2>&1 \
    || { tail -20 "$log" >&2; die "apt-get install $* failed (log: $log)"; }
  as_root apt-get clean
}
# A line saying how much disk is left, so a full disk is named before the build meets it.
disk_report() {
  local free; free=$(df -Pm "$1" | awk 'NR == 2 { print $4 }')
  step "disk: ${free} MiB free on the file system of $1"
  [ "$free" -ge 4096 ] || printf 'warning: under 4 GiB free; a whole make test builds about 3 GiB of Rust\n' >&2
}
