import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { DeterminismViolationError } from '@temporalio/workflow';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { quietBundlerLogger, WORKFLOWS_PATH } from '../workers/worker.js';
import { installRuntime } from '../workers/runtime.js';

// Every generation of recorded runs is kept as it was, because runs still open (or queried after a worker restart)
// at a deploy must replay through the `patched()` branches that were current when they ran:
// `pre-kit-*` before the resilience kit; `local-context-read-*` from when context and cache were first read with
// local activities; `regular-reads-*` with the cache and context read through regular activities; `local-reads-*`
// with local reads whose patches were asked at the point of use; `triage-*`, the current code (every versioned
// behaviour resolved at the run's start), from `npm run record-histories`.
const HISTORIES = [
  'pre-kit-escalated',
  'pre-kit-repaired-reviewed',
  'local-context-read-escalated',
  'local-context-read-repaired-reviewed',
  'local-context-read-kit-fallback',
  'local-context-read-kit-cache-hit',
  'regular-reads-escalated',
  'regular-reads-repaired-reviewed',
  'regular-reads-kit-fallback',
  'regular-reads-kit-cache-hit',
  'local-reads-escalated',
  'local-reads-repaired-reviewed',
  'local-reads-kit-fallback',
  'local-reads-kit-cache-hit',
  'local-reads-kit-cache-last-resort',
  'triage-escalated',
  'triage-repaired-reviewed',
  'triage-kit-fallback',
  'triage-kit-cache-hit',
  'triage-kit-cache-last-resort',
  'complaint-injected-resolved',
  'lease-ticket',
  'handoff-analyzed',
  'handoff-analyst',
];

/** Histories whose workflow code uses its own id (idempotency keys, lease requests, child ids) replay under that id. */
const WORKFLOW_IDS: Record<string, string> = {
  'complaint-injected-resolved': 'complaint/evt_replay_complaint',
  'lease-ticket': 'lease/ticket:tkt_replay_1',
  'handoff-analyzed': 'handoff/replay',
  'handoff-analyst': 'handoff/replay/analyst',
};

async function load(name: string) {
  // runReplayHistory takes the proto-JSON form as it is (what the CLI and the Web UI download).
  return JSON.parse(await readFile(new URL(`./histories/${name}.json`, import.meta.url), 'utf8')) as { events: unknown[] };
}

describe('replay of saved histories', () => {
  installRuntime('ERROR');

  for (const name of HISTORIES) {
    it(`${name} replays cleanly on the current workflow code`, async () => {
      const history = await load(name);
      assert.ok(history.events.length > 10);
      await Worker.runReplayHistory({ workflowsPath: WORKFLOWS_PATH }, history, WORKFLOW_IDS[name]);
    });
  }

  it('a deliberately changed workflow fails replay with a determinism violation', async () => {
    const changed = fileURLToPath(new URL('./fixtures/changed-workflow/index.ts', import.meta.url));
    const workflowBundle = await bundleWorkflowCode({ workflowsPath: changed, logger: quietBundlerLogger });
    await assert.rejects(
      Worker.runReplayHistory({ workflowBundle }, await load('pre-kit-escalated')),
      (err: unknown) => {
        assert.ok(err instanceof DeterminismViolationError, `expected DeterminismViolationError, got ${String(err)}`);
        return true;
      },
    );
  });
});
