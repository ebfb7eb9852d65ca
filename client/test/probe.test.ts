// Runs the real probe against real interpreters on this machine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProbe } from '../src/probe';

function havePython3(): boolean {
  try {
    execFileSync('python3', ['-c', 'pass']);
    return true;
  } catch {
    return false;
  }
}

test('probe reports version, executable and whether gradguard is importable', { skip: !havePython3() && 'python3 not on PATH' }, async () => {
  const env = { ...process.env, PYTHONPATH: '', PYTHONNOUSERSITE: '1' };
  const r = await runProbe(['python3', '-I'], { env });
  assert.equal(r.ok, true);
  if (!r.ok) return;
  assert.ok(r.info.version[0] === 3);
  assert.ok(r.info.executable.length > 0);

  // Make a fake gradguard package visible through PYTHONPATH: the probe must notice it.
  const dir = mkdtempSync(join(tmpdir(), 'gg-probe-'));
  mkdirSync(join(dir, 'gradguard'));
  writeFileSync(join(dir, 'gradguard', '__init__.py'), '');
  const withPkg = await runProbe(['python3'], { env: { ...env, PYTHONPATH: dir } });
  assert.equal(withPkg.ok && withPkg.info.hasGradguard, true);
});

test('probe of a missing executable says "not found"', async () => {
  const r = await runProbe(['/definitely/not/a/python']);
  assert.deepEqual(r, { ok: false, error: 'not found' });
});

test('probe of a failing interpreter reports its stderr', async () => {
  const r = await runProbe(['node', '-e', 'console.error("bad interp"); process.exit(3)', '--']);
  assert.equal(r.ok, false);
  if (!r.ok) assert.match(r.error, /bad interp/);
});
