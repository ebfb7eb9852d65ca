#!/usr/bin/env bash
# Builds gradguard-<version>.vsix at the repo root (or $VSIX_OUT):
#   1. typecheck + production bundle of the TypeScript client (dist/extension.js)
#   2. pip install --target bundled/libs <repo root>: the gradguard server and its runtime
#      dependencies (pygls, lsprotocol, libcst, jedi, ...), so the extension runs on a bare
#      system Python with nothing installed.
#   3. vsce package --no-dependencies (the client is already bundled by esbuild).
# Steps 2-3 run in a private staging directory, so concurrent runs cannot trample each other;
# the .vsix is moved into place atomically.
#
# libcst has a compiled extension. On linux-x86_64 the bundle carries it for every Python in
# $GRADGUARD_BUNDLE_PYTHONS (default 3.9-3.14) and resolves the pure-Python dependencies for the
# oldest one; elsewhere it is for $PYTHON's version only. bundled/bundle.json records the
# versions ("pythons"); the extension warns when its interpreter is not among them.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO="$PWD"

PYTHON="${PYTHON:-python3}"
VERSION="$(node -p "require('./package.json').version")"
OUT="${VSIX_OUT:-$REPO/gradguard-$VERSION.vsix}"
VSCE="$REPO/node_modules/.bin/vsce"
[ -x "$VSCE" ] || { echo "[package] $VSCE missing: run npm ci first" >&2; exit 1; }

STAGE="$(mktemp -d "${TMPDIR:-/tmp}/gradguard-vsix.XXXXXX")"
trap 'rm -rf "$STAGE"' EXIT

echo "[package] building the client" >&2
npm run --silent typecheck
node esbuild.mjs --production --outfile "$STAGE/dist/extension.js"

BUNDLE_MIN_PYTHON="${GRADGUARD_BUNDLE_MIN_PYTHON:-3.9}"
BUNDLE_PYTHONS="${GRADGUARD_BUNDLE_PYTHONS:-3.9 3.10 3.11 3.12 3.13 3.14}"
PLATFORM="$("$PYTHON" -c 'import sysconfig; print(sysconfig.get_platform())')"
PIP=("$PYTHON" -m pip --disable-pip-version-check)
quiet_pip() { grep -v -e "is ignored: it is neither a file" -e "Running pip as the 'root' user" >&2 || true; }
LIBS="$STAGE/bundled/libs"
mkdir -p "$LIBS"

echo "[package] building the gradguard wheel with $("$PYTHON" -c 'import sys; print(sys.executable, sys.version.split()[0])')" >&2
"${PIP[@]}" wheel --quiet --no-deps -w "$STAGE/wheels" "$REPO" 2> >(quiet_pip)
WHEEL="$(ls "$STAGE"/wheels/gradguard-*.whl)"

# The pure-Python dependencies are resolved by a real interpreter of the oldest Python to
# support (pip evaluates environment markers such as `python_version < "3.11"` against the
# interpreter that runs it): $GRADGUARD_BUNDLE_RESOLVE_PYTHON, else python$BUNDLE_MIN_PYTHON on
# PATH or under pyenv, else $PYTHON (and then the bundle supports $PYTHON's version and newer).
RESOLVE_PY="${GRADGUARD_BUNDLE_RESOLVE_PYTHON:-}"
if [ -z "$RESOLVE_PY" ]; then
  for c in "python$BUNDLE_MIN_PYTHON" "$(pyenv root 2>/dev/null || echo /nonexistent)"/versions/"$BUNDLE_MIN_PYTHON".*/bin/python"$BUNDLE_MIN_PYTHON"; do
    if "$c" -m pip --version >/dev/null 2>&1; then RESOLVE_PY="$c"; break; fi
  done
fi
RESOLVE_PY="${RESOLVE_PY:-$PYTHON}"
RESOLVE_VERSION="$("$RESOLVE_PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
echo "[package] bundled/libs resolved by $RESOLVE_PY (Python $RESOLVE_VERSION, $PLATFORM)" >&2
"$RESOLVE_PY" -m pip install --disable-pip-version-check --quiet --no-compile --target "$LIBS" \
  --only-binary=:all: "$WHEEL" 2> >(quiet_pip)

at_least() { "$PYTHON" -c 'import sys; a, b = (tuple(map(int, v.split("."))) for v in sys.argv[1:]); sys.exit(a < b)' "$1" "$2"; }
SUPPORTED=("$RESOLVE_VERSION")
case "$PLATFORM" in
  linux-x86_64)
    # libcst's compiled module for every further Python in $BUNDLE_PYTHONS goes next to the
    # first one: each interpreter loads only the file with its own ABI tag.
    PLAT=(--implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64)
    LIBCST_VERSION="$(cd "$LIBS" && ls -d libcst-*.dist-info | sed 's/^libcst-\(.*\)\.dist-info$/\1/')"
    for v in $BUNDLE_PYTHONS; do
      if [ "$v" = "$RESOLVE_VERSION" ] || ! at_least "$v" "$RESOLVE_VERSION"; then continue; fi
      d="$STAGE/native/$v"
      if "${PIP[@]}" download --quiet --no-deps --only-binary=:all: --python-version "$v" "${PLAT[@]}" \
           -d "$d" "libcst==$LIBCST_VERSION" 2> >(quiet_pip); then
        (cd "$d" && "$PYTHON" -m zipfile -e libcst-*.whl x)
        cp -n "$d"/x/libcst/native.*.so "$LIBS/libcst/"
        SUPPORTED+=("$v")
      else
        echo "[package] no libcst $LIBCST_VERSION wheel for Python $v: not bundled" >&2
      fi
    done
    ;;
  *)
    echo "[package] $PLATFORM: libcst bundled for Python $RESOLVE_VERSION only" >&2
    ;;
esac
# Console scripts point at the build interpreter; the extension runs `python -m gradguard`.
rm -rf "$LIBS/bin"
find "$STAGE/bundled" -name '__pycache__' -type d -prune -exec rm -rf {} +
(cd "$STAGE" && SUPPORTED="${SUPPORTED[*]}" "$PYTHON" - <<'PY' > bundled/bundle.json
import json, os, sysconfig
from importlib.metadata import PathDistribution
from pathlib import Path
dists = {}
for info in sorted(Path("bundled/libs").glob("*.dist-info")):
    d = PathDistribution(info)
    dists[d.metadata["Name"]] = d.version
print(json.dumps({
    "pythons": os.environ["SUPPORTED"].split(),
    "platform": sysconfig.get_platform(),
    "packages": dists,
}, indent=2))
PY
)
(cd "$STAGE" && "$PYTHON" -S -c "import sys; sys.path.insert(0, 'bundled/libs'); import gradguard.lsp.server, pygls, libcst") \
  || { echo "[package] the bundle does not import" >&2; exit 1; }

# The manifest without the build scripts (nothing is left to build in the staging dir).
node -e '
  const fs = require("fs");
  const m = JSON.parse(fs.readFileSync("package.json", "utf8"));
  delete m.scripts; delete m.devDependencies;
  fs.writeFileSync(process.argv[1], JSON.stringify(m, null, 2) + "\n");
' "$STAGE/package.json"
cp .vscodeignore "$STAGE/"
cp client/README.md "$STAGE/README.md"
for f in LICENSE CHANGELOG.md; do [ -f "$f" ] && cp "$f" "$STAGE/"; done

echo "[package] vsce package -> $OUT" >&2
# --allow-package-all-secrets: skips minutes of secret scanning over ~6000 third-party files;
# what goes in is fixed by the allow-list in .vscodeignore.
(cd "$STAGE" && "$VSCE" package --no-dependencies --skip-license --allow-missing-repository \
   --allow-package-all-secrets --out "$STAGE/out.vsix" >&2)
mv -f "$STAGE/out.vsix" "$OUT"
ls -l "$OUT" >&2
echo "$OUT"
