import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { serverRestart, workerKills, type Outcome } from '../chaos/scenarios.js';

/**
 * A slice of `npm run chaos`: the same scenarios and invariant checks at a size the suite can afford (the full run
 * kills workers across 200 complaint runs). Worker processes run as the image builds them.
 */
const log = () => undefined;

function assertGreen(o: Outcome): void {
  const red = Object.entries(o.checks).filter(([, c]) => !c.ok);
  assert.deepEqual(red.map(([k, c]) => `${k}: ${c.detail}`), [], o.scenario);
  assert.ok(o.checks['no run lost'] && o.checks['no duplicate effect'] && o.checks['verify clean'], 'the invariants were checked');
}

describe('chaos, a slice', () => {
  it('worker processes SIGKILLed mid-batch, one right after an email committed: nothing lost, nothing twice', { timeout: 600_000 }, async () => {
    assertGreen(await workerKills(log, 16, 2));
  });

  it('the dev server restarted on its database mid-batch: nothing lost, nothing twice', { timeout: 600_000 }, async () => {
    assertGreen(await serverRestart(log, 12));
  });
});
