// Bundles the VS Code client (client/src/extension.ts -> dist/extension.js) and copies mermaid (dist/mermaid.min.js).
// With --tests, also bundles each client/test/*.test.ts into dist/test/ for `node --test`.
import * as esbuild from 'esbuild';
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';

const argv = process.argv.slice(2);
const args = new Set(argv);
const production = args.has('--production');
const outfileAt = argv.indexOf('--outfile');
const outfile = outfileAt >= 0 ? argv[outfileAt + 1] : 'dist/extension.js';

const common = {
  bundle: true,
  platform: 'node',
  target: 'node18',
  format: 'cjs',
  logLevel: 'warning',
};

if (args.has('--tests')) {
  const dir = 'client/test';
  const entryPoints = readdirSync(dir)
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => join(dir, f));
  await esbuild.build({
    ...common,
    entryPoints,
    outdir: 'dist/test',
    sourcemap: 'inline',
    // Unit tests exercise only modules that do not import vscode; fail the build if one does.
    external: [],
  });
} else {
  await esbuild.build({
    ...common,
    entryPoints: ['client/src/extension.ts'],
    outfile,
    external: ['vscode'],
    sourcemap: !production,
    minify: production,
  });
  // The flow view renders with mermaid, bundled next to the extension (the webview loads nothing from the
  // network). Pinned in package.json.
  mkdirSync(dirname(outfile), { recursive: true });
  copyFileSync('node_modules/mermaid/dist/mermaid.min.js', join(dirname(outfile), 'mermaid.min.js'));
}
