/**
 * The credits example end to end, as an adopter runs it: a Temporal dev server and the model double from
 * `governor/testing`, a worker with this example's tool and policy, a client driven by the descriptor. A request is
 * started, the proposed credit waits in the review queue, a person approves it, the tool runs, and the evidence
 * store holds the record. Prints one JSON line with what happened.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Policy } from 'governor';
import { GovernorClient } from 'governor/client';
import { ModelDouble, startDevServer } from 'governor/testing';
import { adaptersFromConfig, createActivities, createGovernorWorker, createProviders, evidenceForWorkflow, installRuntime, openStore, verifyEvidence } from 'governor/worker';
import { creditWorkflow, type CreditState } from './credit-request.js';
import { houseRulesProvider } from './house-rules-provider.js';
import { CREDITS_SCHEMA, issueCreditTool } from './issue-credit.js';

/** Deny by default; the proposer may issue credits, and a person must approve each one. */
const policy = Policy.parse({
  version: 'credits-1',
  actors: { 'agent:credit-proposer': { scopes: ['credits:write'], workflows: ['creditRequest'] } },
  approval: { riskAtOrAbove: 'high', tools: [], approvers: ['usr_ops'] },
  deny: [],
});

/** The workflow module beside this file: compiled (`.js`) in a project that builds, or the source under tsx. */
function workflowsModule(): string {
  const js = fileURLToPath(new URL('./workflows.js', import.meta.url));
  return existsSync(js) ? js : fileURLToPath(new URL('./workflows.ts', import.meta.url));
}

installRuntime('WARN');
const server = await startDevServer();
const double = await ModelDouble.start({
  fallback: (req) => (req.outputName === 'propose_credit' ? { kind: 'json', value: { grant: true, amountCents: 1500, reason: 'Delivery was late twice.' } } : undefined),
});
const store = await openStore({ schemas: [CREDITS_SCHEMA] });
const client = await GovernorClient.connect({ address: server.address, workflows: [creditWorkflow] });
const worker = await createGovernorWorker({
  address: server.address,
  activities: createActivities({
    providers: createProviders([...adaptersFromConfig({ anthropic: { apiKey: 'double', baseURL: double.anthropicBaseURL } }), houseRulesProvider()]),
    store,
    tools: [issueCreditTool],
    policy,
    temporal: client.client,
  }),
  workflows: { workflowsPath: workflowsModule() },
});
const running = worker.run();

async function until<T>(what: string, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

try {
  const event = { event: 'credit.requested', event_id: 'evt_credit_1', customer_id: 'cus_42', message: 'My parcel was late again.' };
  const started = await client.start(creditWorkflow, JSON.stringify(event), {}, { model: { provider: 'anthropic', model: null } });
  const queued = await until('the review queue', async () => (await client.listPending()).find((p) => p.workflowId === started.workflowId));
  const waiting = await client.state<CreditState>(started.workflowId);
  const refused = await client.decide(started.workflowId, 'approve', { stepId: waiting.pending!.stepId, approved: true, reviewerId: 'usr_intruder' });
  // As the reviewer console does: the waiting decision from the descriptor's review view, decided by its choice.
  const item = (await client.listWaiting()).find((w) => w.workflowId === started.workflowId)!;
  const approve = item.decision!.choices.find((c) => c.id === 'approve')!;
  const accepted = await client.decide(started.workflowId, item.decision!.verb, approve.payload({ reviewerId: 'usr_ops', fields: {} }));
  const result = await client.result<CreditState>(started.workflowId);
  const records = await evidenceForWorkflow(store, started.workflowId);
  const credits = await store.db.query<{ n: string }>('select count(*)::text as n from account_credits');
  const chain = await verifyEvidence(store, started.workflowId);

  // The same workflow on the team's own provider, named by the run's config.
  const byRules = await client.start(creditWorkflow, { ...event, event_id: 'evt_credit_2' }, { model: { provider: 'house-rules', model: 'credits-v1' } });
  const held = await until('the second approval', async () => {
    const s = await client.state<CreditState>(byRules.workflowId);
    return s.pending ? s : undefined;
  });
  await client.decide(byRules.workflowId, 'approve', { stepId: held.pending!.stepId, approved: true, reviewerId: 'usr_ops' });
  const ruled = await client.result<CreditState>(byRules.workflowId);
  process.stdout.write(
    `${JSON.stringify({
      workflowId: started.workflowId,
      queued: { phase: queued.phase, type: queued.workflowType },
      refused: refused.status,
      accepted: accepted.status,
      outcome: result.outcome,
      evidence: records.map((r) => ({ tool: r.tool, status: r.status, permission: r.permission, approver: r.approver, receiptId: r.receiptId })),
      credits: Number(credits.rows[0]!.n),
      chainProblems: chain.problems.length,
      houseRules: { outcome: ruled.outcome, amountCents: ruled.proposal?.amountCents ?? null },
    })}\n`,
  );
} finally {
  await client.close();
  await worker.shutdown();
  await running.catch(() => undefined);
  await double.close();
  await store.close();
  await server.stop();
}
