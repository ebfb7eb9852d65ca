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
# libcst has a compiled extension: the bundle is for the platform and the Python minor
# version of $PYTHON (default python3), recorded in bundled/bundle.json; the extension warns
# when the interpreter it picks differs.
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

echo "[package] bundling the server with $("$PYTHON" -c 'import sys; print(sys.executable, sys.version.split()[0])')" >&2
mkdir -p "$STAGE/bundled/libs"
"$PYTHON" -m pip install --quiet --disable-pip-version-check --no-compile --no-warn-script-location \
  --target "$STAGE/bundled/libs" "$REPO" 2> >(grep -v -e "is ignored: it is neither a file" -e "Running pip as the 'root' user" >&2)
# Console scripts point at the build interpreter; the extension runs `python -m gradguard`.
rm -rf "$STAGE/bundled/libs/bin"
find "$STAGE/bundled" -name '__pycache__' -type d -prune -exec rm -rf {} +
(cd "$STAGE" && "$PYTHON" - <<'PY' > bundled/bundle.json
import json, sys, sysconfig
from importlib.metadata import PathDistribution
from pathlib import Path
dists = {}
for info in sorted(Path("bundled/libs").glob("*.dist-info")):
    d = PathDistribution(info)
    dists[d.metadata["Name"]] = d.version
print(json.dumps({
    "python": "%d.%d" % sys.version_info[:2],
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
