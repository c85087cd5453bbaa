# Sourced by run.sh and test.sh: makes sure the build tools are present.
need_node() {
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    step "installing Node.js and npm (Debian packages)"
    apt_install "${TMPDIR:-/tmp}/paychat-apt-node.log" nodejs npm
  fi
}
need_cargo() {
  command -v cargo >/dev/null || die "cargo is missing: install Rust (rustup) first"
}
# npm ci only when package-lock.json changed since the last install.
web_deps() {
  local stamp=$ROOT/web/node_modules/.paychat-lock
  if [ ! -f "$stamp" ] || ! cmp -s "$ROOT/web/package-lock.json" "$stamp"; then
    step "installing the web app's npm packages (npm ci)"
    ( cd "$ROOT/web" && npm ci --no-audit --no-fund --loglevel=error )
    cp "$ROOT/web/package-lock.json" "$stamp"
  fi
}
