import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LaunchInput, buildLaunch, parseBundleManifest, toExecutable } from '../src/launch';

function input(over: Partial<LaunchInput> = {}): LaunchInput {
  return {
    interpreter: ['/usr/bin/python3'],
    info: { version: [3, 11, 7], executable: '/usr/bin/python3', hasGradguard: false },
    importStrategy: 'useBundled',
    bundle: { libs: '/ext/bundled/libs', pythons: ['3.10', '3.11', '3.12'], platform: 'linux-x86_64' },
    baseEnv: { PATH: '/usr/bin', HOME: '/home/u' },
    delimiter: ':',
    ...over,
  };
}

test('useBundled: python -m gradguard serve with the bundle first on PYTHONPATH', () => {
  const r = buildLaunch(input({ baseEnv: { PATH: '/usr/bin', PYTHONPATH: '/user/lib', UNSET: undefined } }));
  assert.equal(r.ok, true);
  if (!r.ok) return;
  assert.equal(r.command, '/usr/bin/python3');
  assert.deepEqual(r.args, ['-m', 'gradguard', 'serve']);
  assert.equal(r.env.PYTHONPATH, '/ext/bundled/libs:/user/lib');
  assert.equal(r.env.PYTHONNOUSERSITE, '1');
  assert.equal(r.env.PATH, '/usr/bin');
  assert.equal('UNSET' in r.env, false);
  assert.equal('GRADGUARD_LOG_LEVEL' in r.env, false); // the log level travels with the settings
  assert.equal(r.strategy, 'useBundled');
  assert.deepEqual(r.warnings, []);
});

test('the tool shim dir goes before libs; Windows delimiter respected', () => {
  const r = buildLaunch(input({ bundle: { libs: 'C:\\e\\libs', tool: 'C:\\e\\tool' }, delimiter: ';' }));
  assert.equal(r.ok && r.env.PYTHONPATH, 'C:\\e\\tool;C:\\e\\libs');
});

test('extra interpreter arguments come before -m', () => {
  const r = buildLaunch(input({ interpreter: ['py', '-3', '-X', 'utf8'] }));
  assert.equal(r.ok, true);
  if (!r.ok) return;
  assert.equal(r.command, 'py');
  assert.deepEqual(r.args, ['-3', '-X', 'utf8', '-m', 'gradguard', 'serve']);
});

test('fromEnvironment leaves PYTHONPATH alone', () => {
  const r = buildLaunch(
    input({
      importStrategy: 'fromEnvironment',
      info: { version: [3, 12, 0], executable: '/v/python', hasGradguard: true },
      baseEnv: { PYTHONPATH: '/user/lib' },
    }),
  );
  assert.equal(r.ok, true);
  if (!r.ok) return;
  assert.equal(r.env.PYTHONPATH, '/user/lib');
  assert.equal('PYTHONNOUSERSITE' in r.env, false);
  assert.equal(r.strategy, 'fromEnvironment');
});

test('fromEnvironment without gradguard installed is an error', () => {
  const r = buildLaunch(input({ importStrategy: 'fromEnvironment' }));
  assert.equal(r.ok, false);
  if (!r.ok) assert.match(r.message, /not installed in \/usr\/bin\/python3/);
});

test('useBundled without a bundle falls back to the environment only if gradguard is there', () => {
  const fallback = buildLaunch(
    input({ bundle: undefined, info: { version: [3, 11, 0], executable: '/v/python', hasGradguard: true } }),
  );
  assert.equal(fallback.ok, true);
  if (fallback.ok) {
    assert.equal(fallback.strategy, 'fromEnvironment');
    assert.equal(fallback.warnings.length, 1);
    assert.equal(fallback.env.PYTHONPATH, undefined);
  }
  const none = buildLaunch(input({ bundle: undefined }));
  assert.equal(none.ok, false);
  if (!none.ok) assert.match(none.message, /no bundled server/);
});

test('a Python version the bundle has no compiled parts for is warned about', () => {
  const inBundle = buildLaunch(input({ info: { version: [3, 12, 3], executable: '/p', hasGradguard: false } }));
  assert.equal(inBundle.ok && inBundle.warnings.length, 0);
  const r = buildLaunch(input({ info: { version: [3, 9, 18], executable: '/p', hasGradguard: false } }));
  assert.equal(r.ok, true);
  if (!r.ok) return;
  assert.equal(r.warnings.length, 1);
  assert.match(r.warnings[0], /supports Python 3\.10, 3\.11, 3\.12 but the interpreter is Python 3\.9/);
  // No version list (an older bundle): no warning.
  const unknown = buildLaunch(input({ bundle: { libs: '/l' }, info: { version: [3, 9, 0], executable: '/p', hasGradguard: false } }));
  assert.equal(unknown.ok && unknown.warnings.length, 0);
});

test('an empty interpreter command is rejected', () => {
  assert.equal(buildLaunch(input({ interpreter: [] })).ok, false);
});

test('parseBundleManifest tolerates junk', () => {
  assert.deepEqual(parseBundleManifest('{"pythons": ["3.9", "3.10", 3], "platform": "linux-x86_64"}'), {
    pythons: ['3.9', '3.10'],
    platform: 'linux-x86_64',
  });
  assert.deepEqual(parseBundleManifest('{"python": "3.11"}'), { pythons: ['3.11'], platform: undefined });
  assert.deepEqual(parseBundleManifest('nope'), {});
  assert.deepEqual(parseBundleManifest(undefined), {});
  assert.deepEqual(parseBundleManifest('{"python": 3}'), { pythons: undefined, platform: undefined });
});

test('the executable has no transport, so the client adds no --stdio argument', () => {
  const r = buildLaunch(input());
  assert.equal(r.ok, true);
  if (!r.ok) return;
  const exe = toExecutable(r, '/ws');
  assert.deepEqual(Object.keys(exe).sort(), ['args', 'command', 'options']);
  assert.deepEqual(exe.args, ['-m', 'gradguard', 'serve']);
  assert.equal(exe.options.cwd, '/ws');
  assert.equal(exe.options.env.PYTHONPATH, '/ext/bundled/libs');
});
