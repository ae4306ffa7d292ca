/**
 * How the support domain is put on a worker, in one place: the store with the domain's tables, Governor's activities
 * with the domain's tools and policy, the domain's own activity, and the workflow module to bundle. The worker
 * process, the demo, the benchmarks and the tests all start from here.
 */
import { fileURLToPath } from 'node:url';
import type { Policy } from 'governor';
import { createActivities, openStore, registerPrompt, type ActivityDeps, type Store, type StoreOptions } from 'governor/worker';
import { createSupportActivities } from './activities.js';
import { SUPPORT_POLICY } from './policy.js';
import { complaintRecord } from './prompts/complaint-escalation.js';
import { classifierRecord } from './prompts/support-ticket-classifier.js';
import { SUPPORT_SCHEMA } from './schema.js';
import { SUPPORT_TOOL_IMPLEMENTATIONS } from './tool-implementations.js';

/**
 * The module the worker bundles: the support workflows and Governor's `resourceLease` — the source in the repository,
 * the compiled JS beside this module in the worker image.
 */
export const SUPPORT_WORKFLOWS_PATH = fileURLToPath(new URL(`./workflows/index.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`, import.meta.url));

/** The prompt versions the code ships, registered whenever a support store is opened. */
export const SUPPORT_PROMPTS = [classifierRecord, complaintRecord] as const;

/**
 * Governor's store with the support domain's tables (tickets, decisions, outbox, refunds, escalations), and the code's
 * prompt versions registered (idempotent; a changed prompt under an existing version stops the start, naming it).
 */
export async function openSupportStore(options: Omit<StoreOptions, 'schemas'> = {}): Promise<Store> {
  const store = await openStore({ ...options, schemas: [SUPPORT_SCHEMA] });
  if (options.migrate === false) return store;
  try {
    for (const prompt of SUPPORT_PROMPTS) await registerPrompt(store, prompt, 'code');
  } catch (err) {
    await store.close();
    throw err;
  }
  return store;
}

/** The support activities that are reads (a lookup, no effect): a run may ask them with others (`readTogether`). */
export const SUPPORT_READS = ['loadTicketContext'] as const;

/** Every activity a support worker registers: Governor's, wired to the support tools and policy, and the domain's own. */
export function supportActivities(deps: Omit<ActivityDeps, 'tools' | 'policy'> & { readonly policy?: Policy }) {
  return {
    ...createActivities({ ...deps, tools: SUPPORT_TOOL_IMPLEMENTATIONS, policy: deps.policy ?? SUPPORT_POLICY }),
    ...createSupportActivities(deps.store.db),
  };
}
