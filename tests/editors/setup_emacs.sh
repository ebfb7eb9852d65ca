#!/usr/bin/env bash
# Makes Emacs + eglot available for tests/editors/test_emacs.py, idempotently:
#   Debian's `emacs-nox` (28.x on bookworm) and `elpa-eglot` (1.9) via apt-get, only when
#   something is missing (and only as root). Prints `EMACS=<path>` when emacs is usable and eglot
#   loads in `emacs --batch`; exits 3 otherwise (the reason is on stderr). Debian loads its elpa-*
#   packages from site-start, so the check (and the test) run `emacs --batch` without -Q.
set -uo pipefail

log() { echo "[setup_emacs] $*" >&2; }

eglot_loads() {
  command -v emacs >/dev/null 2>&1 \
    && emacs --batch --eval "(require 'eglot)" >/dev/null 2>&1
}

if ! eglot_loads; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "apt-get install emacs-nox elpa-eglot"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq emacs-nox elpa-eglot; } >&2 \
      || log "apt-get install emacs-nox elpa-eglot failed"
  else
    log "emacs/eglot missing and not root (or no apt-get): cannot install"
  fi
fi

if eglot_loads; then
  echo "EMACS=$(command -v emacs)"
else
  log "no emacs with a loadable eglot available"
  exit 3
fi
