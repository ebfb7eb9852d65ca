import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RestartQueue } from '../src/restartQueue';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

test('a burst of requests during a restart yields exactly one more restart', async () => {
  const gates = [deferred(), deferred(), deferred()];
  let runs = 0;
  let concurrent = 0;
  let maxConcurrent = 0;
  const q = new RestartQueue(async () => {
    const gate = gates[runs++];
    concurrent++;
    maxConcurrent = Math.max(maxConcurrent, concurrent);
    await gate.promise;
    concurrent--;
  });
  const first = q.request();
  const later = [q.request(), q.request(), q.request()];
  assert.equal(q.busy, true);
  gates[0].resolve();
  await first;
  gates[1].resolve();
  await Promise.all(later);
  assert.equal(runs, 2);
  assert.equal(maxConcurrent, 1);
  assert.equal(q.busy, false);
  // Idle again: a new request starts a new run.
  const again = q.request();
  gates[2].resolve();
  await again;
  assert.equal(runs, 3);
});

test('a failing restart is reported and does not wedge the queue', async () => {
  const errors: unknown[] = [];
  let runs = 0;
  const q = new RestartQueue(
    async () => {
      runs++;
      if (runs === 1) throw new Error('boom');
    },
    (e) => errors.push(e),
  );
  await q.request();
  await q.request();
  assert.equal(runs, 2);
  assert.equal(errors.length, 1);
  assert.match(String(errors[0]), /boom/);
});
