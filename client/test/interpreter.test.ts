import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Candidate,
  ProbeOutcome,
  chooseInterpreter,
  interpreterCandidates,
  parseProbeOutput,
  versionAtLeast,
} from '../src/interpreter';

const ok = (version: [number, number, number], hasGradguard = false, executable = '/x/python'): ProbeOutcome => ({
  ok: true,
  info: { version, executable, hasGradguard },
});

test('trusted setting is the only candidate', () => {
  const { candidates, notes } = interpreterCandidates({
    setting: ['/opt/py'],
    trusted: true,
    pythonExtension: ['/venv/bin/python'],
    platform: 'linux',
  });
  assert.deepEqual(candidates, [{ command: ['/opt/py'], source: 'setting' }]);
  assert.deepEqual(notes, []);
});

test('untrusted workspace ignores the setting and says so', () => {
  const { candidates, notes } = interpreterCandidates({
    setting: ['/opt/py'],
    trusted: false,
    pythonExtension: ['/venv/bin/python'],
    platform: 'linux',
  });
  assert.deepEqual(
    candidates.map((c) => c.source),
    ['python-extension', 'path', 'path'],
  );
  assert.deepEqual(candidates[0].command, ['/venv/bin/python']);
  assert.equal(notes.length, 1);
  assert.match(notes[0], /not trusted/);
});

test('no setting, no Python extension: PATH only, platform-specific names', () => {
  const linux = interpreterCandidates({ setting: [], trusted: true, platform: 'linux' });
  assert.deepEqual(linux.candidates.map((c) => c.command), [['python3'], ['python']]);
  const win = interpreterCandidates({ setting: [], trusted: true, platform: 'win32' });
  assert.deepEqual(win.candidates.map((c) => c.command), [['python'], ['py', '-3']]);
  const emptyExt = interpreterCandidates({ setting: [], trusted: true, pythonExtension: [''], platform: 'linux' });
  assert.equal(emptyExt.candidates[0].source, 'path');
});

test('parseProbeOutput reads the marked JSON line among noise', () => {
  const out = 'hello from sitecustomize\nGRADGUARD_PROBE {"version": [3, 11, 7], "executable": "/usr/bin/python3", "gradguard": true}\n';
  assert.deepEqual(parseProbeOutput(out), {
    ok: true,
    info: { version: [3, 11, 7], executable: '/usr/bin/python3', hasGradguard: true },
  });
  assert.equal(parseProbeOutput('').ok, false);
  assert.equal(parseProbeOutput('GRADGUARD_PROBE {not json').ok, false);
  assert.equal(parseProbeOutput('GRADGUARD_PROBE {"version": "3.11"}').ok, false);
});

test('versionAtLeast compares component-wise', () => {
  assert.equal(versionAtLeast([3, 9, 0], [3, 9]), true);
  assert.equal(versionAtLeast([3, 10, 1], [3, 9]), true);
  assert.equal(versionAtLeast([3, 8, 18], [3, 9]), false);
  assert.equal(versionAtLeast([2, 7, 18], [3, 9]), false);
  assert.equal(versionAtLeast([4, 0, 0], [3, 9]), true);
});

test('chooseInterpreter skips missing and too-old interpreters, keeping the reasons', async () => {
  const cands: Candidate[] = [
    { command: ['/venv38/bin/python'], source: 'python-extension' },
    { command: ['python3'], source: 'path' },
    { command: ['python'], source: 'path' },
  ];
  const probed: string[] = [];
  const result = await chooseInterpreter(
    cands,
    async (cmd) => {
      probed.push(cmd[0]);
      if (cmd[0] === '/venv38/bin/python') return ok([3, 8, 10]);
      if (cmd[0] === 'python3') return { ok: false, error: 'not found' };
      return ok([3, 12, 1]);
    },
    { needsGradguard: false },
  );
  assert.equal(result.ok, true);
  if (!result.ok) return;
  assert.deepEqual(result.candidate.command, ['python']);
  assert.deepEqual(probed, ['/venv38/bin/python', 'python3', 'python']);
  assert.equal(result.warnings.length, 2);
  assert.match(result.warnings[0], /3\.8\.10 is too old/);
  assert.match(result.warnings[1], /python3 \(from PATH\): not found/);
});

test('fromEnvironment requires gradguard to be importable', async () => {
  const cands: Candidate[] = [
    { command: ['python3'], source: 'path' },
    { command: ['python'], source: 'path' },
  ];
  const r = await chooseInterpreter(cands, async (cmd) => ok([3, 11, 0], cmd[0] === 'python'), { needsGradguard: true });
  assert.equal(r.ok && r.candidate.command[0], 'python');
  const none = await chooseInterpreter(cands, async () => ok([3, 11, 0], false), { needsGradguard: true });
  assert.equal(none.ok, false);
  if (none.ok) return;
  assert.equal(none.details.length, 2);
  assert.match(none.details[0], /pip install <gradguard checkout or wheel>/);
  assert.match(none.message, /no usable Python 3\.9\+/);
});

test('a broken explicit setting is an error, never a silent fallback', async () => {
  const r = await chooseInterpreter(
    [{ command: ['/nope/python'], source: 'setting' }],
    async () => ({ ok: false, error: 'not found' }),
    { needsGradguard: false },
  );
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.match(r.message, /gradguard\.interpreter/);
  assert.deepEqual(r.details, ['/nope/python (from gradguard.interpreter): not found']);
});

test('no candidates at all gives the install-Python message', async () => {
  const r = await chooseInterpreter([], async () => ok([3, 11, 0]), { needsGradguard: false });
  assert.equal(r.ok, false);
  if (!r.ok) assert.match(r.message, /no usable Python/);
});
