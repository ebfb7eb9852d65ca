import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statusView } from '../src/status';

test('status bar texts per state', () => {
  assert.equal(statusView({ kind: 'running', python: '3.11.7', strategy: 'useBundled' }).text, '$(check) gradguard');
  assert.match(statusView({ kind: 'running', python: '3.11.7', strategy: 'useBundled' }).tooltip, /Python 3\.11\.7 \(useBundled\)/);
  const err = statusView({ kind: 'error', message: 'no python' });
  assert.equal(err.error, true);
  assert.match(err.tooltip, /^no python/);
  assert.equal(statusView({ kind: 'disabled' }).error, false);
  assert.match(statusView({ kind: 'starting' }).text, /sync~spin/);
});
