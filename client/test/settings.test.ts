import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultSettings, expandVariables, serverPayload, serverSettings, validateSettings } from '../src/settings';

test('empty configuration gives the documented defaults and no problems', () => {
  const { settings, problems } = validateSettings({});
  assert.deepEqual(settings, defaultSettings());
  assert.deepEqual(problems, []);
  assert.equal(settings.importStrategy, 'useBundled');
  assert.equal(settings.enable, true);
  assert.equal(settings.logLevel, 'info');
});

test('valid values pass through (codes normalised, duplicates dropped)', () => {
  const { settings, problems } = validateSettings({
    enable: false,
    interpreter: ['/opt/py/bin/python', '-X', 'utf8'],
    importStrategy: 'fromEnvironment',
    select: ['GG2', 'gg201', 'GG201'],
    ignore: ['GG301'],
    severity: { GG201: 'error', gg3: 'hint' },
    logLevel: 'debug',
    'trace.server': 'verbose',
  });
  assert.deepEqual(problems, []);
  assert.equal(settings.enable, false);
  assert.deepEqual(settings.interpreter, ['/opt/py/bin/python', '-X', 'utf8']);
  assert.equal(settings.importStrategy, 'fromEnvironment');
  assert.deepEqual(settings.select, ['GG2', 'GG201']);
  assert.deepEqual(settings.ignore, ['GG301']);
  assert.deepEqual(settings.severity, { GG201: 'error', GG3: 'hint' });
  assert.equal(settings.logLevel, 'debug');
  assert.equal(settings.trace.server, 'verbose');
});

test('invalid scalars are reported and replaced by defaults', () => {
  const { settings, problems } = validateSettings({
    enable: 'yes',
    importStrategy: 'bundled',
    logLevel: 'trace',
    'trace.server': 42,
  });
  assert.equal(settings.enable, true);
  assert.equal(settings.importStrategy, 'useBundled');
  assert.equal(settings.logLevel, 'info');
  assert.equal(settings.trace.server, 'off');
  assert.equal(problems.length, 4);
  assert.match(problems[0], /gradguard\.enable/);
  assert.ok(problems.some((p) => p.includes('gradguard.importStrategy') && p.includes('"bundled"') && p.includes('useBundled')));
  assert.ok(problems.some((p) => p.includes('gradguard.logLevel')));
  assert.ok(problems.some((p) => p.includes('gradguard.trace.server')));
});

test('bad rule codes are dropped one by one, good ones kept', () => {
  const { settings, problems } = validateSettings({ select: ['GG201', 'E501', 7, 'GG12345'], ignore: 'GG201' });
  assert.deepEqual(settings.select, ['GG201']);
  assert.deepEqual(settings.ignore, []);
  assert.equal(problems.length, 4);
  assert.ok(problems.some((p) => p.includes('"E501"')));
  assert.ok(problems.some((p) => p.includes('gradguard.ignore') && p.includes('expected an array')));
});

test('severity: bad keys and bad levels are ignored individually', () => {
  const { settings, problems } = validateSettings({ severity: { GG201: 'fatal', GG202: 'warning', flake8: 'error' } });
  assert.deepEqual(settings.severity, { GG202: 'warning' });
  assert.equal(problems.length, 2);
  const arr = validateSettings({ severity: ['GG201'] });
  assert.deepEqual(arr.settings.severity, {});
  assert.equal(arr.problems.length, 1);
});

test('interpreter: a bare string is accepted with a warning; junk is rejected', () => {
  const s = validateSettings({ interpreter: ' /usr/bin/python3 ' });
  assert.deepEqual(s.settings.interpreter, ['/usr/bin/python3']);
  assert.equal(s.problems.length, 1);
  const bad = validateSettings({ interpreter: ['/usr/bin/python3', 3] });
  assert.deepEqual(bad.settings.interpreter, []);
  assert.equal(bad.problems.length, 1);
  const blank = validateSettings({ interpreter: [''] });
  assert.deepEqual(blank.settings.interpreter, []);
  assert.equal(blank.problems.length, 1);
  assert.deepEqual(validateSettings({ interpreter: '' }).problems, []);
});

test('expandVariables handles workspaceFolder, userHome, env and ~', () => {
  const ctx = { workspaceFolder: '/ws', home: '/home/u', env: { VENV: '/v' } };
  assert.equal(expandVariables('${workspaceFolder}/.venv/bin/python', ctx), '/ws/.venv/bin/python');
  assert.equal(expandVariables('~/py/bin/python', ctx), '/home/u/py/bin/python');
  assert.equal(expandVariables('${env:VENV}/bin/python', ctx), '/v/bin/python');
  assert.equal(expandVariables('${env:MISSING}x', ctx), 'x');
  assert.equal(expandVariables('${userHome}/a', ctx), '/home/u/a');
  assert.equal(expandVariables('a~b', ctx), 'a~b');
  assert.equal(expandVariables('${workspaceFolder}', {}), '${workspaceFolder}');
});

test('serverSettings sends the rule settings but not the interpreter', () => {
  const { settings } = validateSettings({ select: ['GG2'], severity: { GG201: 'hint' }, interpreter: ['/x'] });
  const sent = serverSettings(settings);
  assert.deepEqual(sent.select, ['GG2']);
  assert.deepEqual(sent.severity, { GG201: 'hint' });
  assert.equal('interpreter' in sent, false);
  assert.equal(sent.logLevel, 'info');
});

test('serverPayload: settings for every document plus one entry per workspace folder', () => {
  const global = validateSettings({ select: ['GG2'], logLevel: 'debug' }).settings;
  const a = validateSettings({ ignore: ['GG201'], severity: { GG202: 'error' } }).settings;
  const b = validateSettings({ select: ['GG1'], enable: false }).settings;
  const sent = serverPayload(global, [
    { uri: 'file:///ws/a', settings: a },
    { uri: 'file:///ws/b/', settings: b },
  ]);
  assert.deepEqual(sent.select, ['GG2']);
  assert.equal(sent.logLevel, 'debug');
  const folders = sent.folders as Record<string, Record<string, unknown>>;
  assert.deepEqual(Object.keys(folders), ['file:///ws/a', 'file:///ws/b']);
  assert.deepEqual(folders['file:///ws/a'].ignore, ['GG201']);
  assert.deepEqual(folders['file:///ws/a'].severity, { GG202: 'error' });
  assert.deepEqual(folders['file:///ws/b'].select, ['GG1']);
  assert.equal(folders['file:///ws/b'].enable, false);
  assert.equal('interpreter' in folders['file:///ws/a'], false);
  assert.deepEqual(serverPayload(global, []).folders, {});
});
