import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { DeterminismViolationError } from '@temporalio/workflow';
import { Worker } from '@temporalio/worker';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { bundleWorkflows, installRuntime } from 'governor/worker';
import { SUPPORT_WORKFLOWS_PATH } from '../examples/support/setup.js';
import { COMPLAINT_RELEASE, COMPLAINT_RELEASE_1 } from '../examples/support/workflows/complaint.js';
import { TRIAGE_RELEASE, TRIAGE_RELEASE_1, TRIAGE_RELEASE_2 } from '../examples/support/workflows/triage.js';

// The baseline of the first release: one recorded run per path through the reference workflows
// (`npm run record-histories`). From the first release on, every behaviour change is versioned (`patched()` or a
// new workflow type) and a history recorded before it stays here, so runs still open at a deploy keep replaying.
const HISTORIES = [
  'triage-escalated',
  'triage-repaired-reviewed',
  'triage-kit-fallback',
  'triage-kit-cache-hit',
  'triage-kit-cache-last-resort',
  'triage-patched-reviewed',
  'triage-release-reviewed',
  'triage-release2-reviewed',
  'triage-release2-repaired',
  'triage-release2-cache-hit',
  'triage-release3-reviewed',
  'complaint-injected-resolved',
  'complaint-local-steps',
  'complaint-release',
  'complaint-release2',
  'lease-ticket',
  'handoff-analyzed',
  'handoff-analyst',
];

/** Histories whose workflow code uses its own id (idempotency keys, lease requests, child ids) replay under that id. */
const WORKFLOW_IDS: Record<string, string> = {
  'complaint-injected-resolved': 'complaint/evt_replay_complaint',
  'complaint-local-steps': 'complaint/evt_replay_complaint_local',
  'complaint-release': 'complaint/evt_replay_complaint_release',
  'complaint-release2': 'complaint/evt_replay_complaint_release2',
  'triage-patched-reviewed': 'triage/evt_replay_triage_patched_reviewed',
  'triage-release-reviewed': 'triage/evt_replay_triage_release_reviewed',
  'triage-release2-reviewed': 'triage/evt_replay_triage_release2_reviewed',
  'triage-release2-repaired': 'triage/evt_replay_release2_repaired',
  'triage-release2-cache-hit': 'triage/evt_replay_release2_hit',
  'triage-release3-reviewed': 'triage/evt_replay_triage_release3_reviewed',
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

  // A run begun before a release patch replays through the patches it recorded, one per change; a run begun on it
  // recorded the release patch alone.
  it('the saved runs recorded the patches their names say', async () => {
    const patches = async (name: string) =>
      (await load(name)).events.flatMap((e) => {
        const m = (e as { markerRecordedEventAttributes?: { markerName?: string; details?: Record<string, { payloads: Array<{ data: string }> }> } }).markerRecordedEventAttributes;
        const data = m?.markerName === 'core_patch' ? m.details?.['patch-data']?.payloads[0]?.data : undefined;
        return data ? [(JSON.parse(Buffer.from(data, 'base64').toString()) as { id: string }).id] : [];
      });
    assert.deepEqual(await patches('triage-patched-reviewed'), ['support-prompt-registry', 'support-review-sampling', 'support-review-records', 'support-review-reminders', 'governor-workflow-controls']);
    assert.deepEqual(await patches('triage-release-reviewed'), [TRIAGE_RELEASE_1]);
    for (const name of ['triage-release2-reviewed', 'triage-release2-repaired', 'triage-release2-cache-hit']) assert.deepEqual(await patches(name), [TRIAGE_RELEASE_2]);
    assert.deepEqual(await patches('triage-release3-reviewed'), [TRIAGE_RELEASE]);
    assert.deepEqual(await patches('complaint-local-steps'), ['support-complaint-prompt-registry', 'support-complaint-local-steps', 'governor-workflow-controls']);
    assert.deepEqual(await patches('complaint-release'), [COMPLAINT_RELEASE_1]);
    assert.deepEqual(await patches('complaint-release2'), [COMPLAINT_RELEASE]);
  });

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
