import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { DeterminismViolationError } from '@temporalio/workflow';
import { Worker } from '@temporalio/worker';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { bundleWorkflows, installRuntime } from 'governor/worker';
import { SUPPORT_WORKFLOWS_PATH } from '../examples/support/setup.js';

// The baseline of the first release: one recorded run per path through the reference workflows
// (`npm run record-histories`). From the first release on, every behaviour change is versioned (`patched()` or a
// new workflow type) and a history recorded before it stays here, so runs still open at a deploy keep replaying.
const HISTORIES = [
  'triage-escalated',
  'triage-repaired-reviewed',
  'triage-kit-fallback',
  'triage-kit-cache-hit',
  'triage-kit-cache-last-resort',
  'complaint-injected-resolved',
  'complaint-local-steps',
  'lease-ticket',
  'handoff-analyzed',
  'handoff-analyst',
];

/** Histories whose workflow code uses its own id (idempotency keys, lease requests, child ids) replay under that id. */
const WORKFLOW_IDS: Record<string, string> = {
  'complaint-injected-resolved': 'complaint/evt_replay_complaint',
  'complaint-local-steps': 'complaint/evt_replay_complaint_local',
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
  let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
  const workflowBundle = () => (bundle ??= bundleWorkflows({ workflowsPath: SUPPORT_WORKFLOWS_PATH }));

  for (const name of HISTORIES) {
    it(`${name} replays cleanly on the current workflow code`, async () => {
      const history = await load(name);
      assert.ok(history.events.length > 10);
      await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, WORKFLOW_IDS[name]);
    });
  }

  it('a deliberately changed workflow fails replay with a determinism violation', async () => {
    const changed = fileURLToPath(new URL('./fixtures/changed-workflow/index.ts', import.meta.url));
    const changedBundle = await bundleWorkflows({ workflowsPath: changed });
    await assert.rejects(
      Worker.runReplayHistory({ workflowBundle: changedBundle }, await load('triage-escalated')),
      (err: unknown) => {
        assert.ok(err instanceof DeterminismViolationError, `expected DeterminismViolationError, got ${String(err)}`);
        return true;
      },
    );
  });
});
