import type { Client } from '@temporalio/client';
import pLimit from 'p-limit';
import type { ModelRef, PromptRecord } from 'governor';
import type { GovernorClient, ReviewSource } from 'governor/client';
import { z } from 'zod';
import type { TriageInput, TriageResult } from '../contracts/triage.js';
import type { EvalCase } from './suites.js';
import type { EvalCaseInput, EvalCaseResult } from '../workflows/eval.js';

export interface AffectedRun {
  readonly workflowId: string;
  readonly runId: string;
  readonly startedAt: string;
  readonly outcome: string;
  readonly category: string | null;
  readonly urgency: string | null;
}

const quote = (s: string) => `'${s.replace(/'/g, "''")}'`;

/**
 * The triage runs a prompt version decided: by its version (the `GovernorPromptVersion` search attribute), a window
 * of start times and the outcomes, through Temporal's visibility API. Bounded by `max`.
 */
export async function selectAffectedRuns(
  client: Client,
  o: { readonly promptVersion: string; readonly since?: Date; readonly until?: Date; readonly outcomes?: readonly string[]; readonly max?: number },
): Promise<AffectedRun[]> {
  const clauses = [`WorkflowType = 'supportTicketTriage'`, `GovernorPromptVersion = ${quote(o.promptVersion)}`, `ExecutionStatus = 'Completed'`];
  if (o.since) clauses.push(`StartTime >= ${quote(o.since.toISOString())}`);
  if (o.until) clauses.push(`StartTime <= ${quote(o.until.toISOString())}`);
  const found: AffectedRun[] = [];
  for await (const wf of client.workflow.list({ query: clauses.join(' AND ') })) {
    const result = (await client.workflow.getHandle(wf.workflowId, wf.runId).result()) as TriageResult;
    if (o.outcomes?.length && !o.outcomes.includes(result.outcome)) continue;
    found.push({ workflowId: wf.workflowId, runId: wf.runId, startedAt: wf.startTime.toISOString(), outcome: result.outcome, category: result.category, urgency: result.urgency });
    if (found.length >= (o.max ?? 500)) break;
  }
  return found;
}

export interface RerunDiff {
  readonly original: AffectedRun;
  /** The linked re-run: `rerun/<original id>/<version>/<time>`, its memo naming the original. */
  readonly rerunId: string;
  readonly now: EvalCaseResult;
  readonly changed: boolean;
}

/**
 * Re-runs each affected run's ticket through the governed step with the fixed version, as new runs linked to the
 * originals (nothing is applied: the originals' decisions stand until a person acts on the differences).
 */
export async function rerunWithVersion(
  governor: GovernorClient,
  runs: readonly AffectedRun[],
  fixed: PromptRecord,
  options: { readonly concurrency?: number; readonly confidenceThreshold?: number } = {},
): Promise<RerunDiff[]> {
  const limit = pLimit(options.concurrency ?? 8);
  const stamp = Date.now().toString(36);
  return Promise.all(
    runs.map((original) =>
      limit(async () => {
        const input = await governor.inputOf<TriageInput>(original.workflowId, original.runId);
        const chain: ModelRef[] = input.config.modelChain ?? [input.config.model ?? { provider: 'anthropic', model: fixed.models.anthropic ?? '' }];
        const rerunId = `rerun/${original.workflowId}/${fixed.version}/${stamp}`;
        const args: EvalCaseInput = { prompt: fixed, ticket: { subject: input.event.ticket.subject, body: input.event.ticket.body }, chain, confidenceThreshold: options.confidenceThreshold ?? input.config.confidenceThreshold };
        const now = await governor.client.workflow.execute<(i: EvalCaseInput) => Promise<EvalCaseResult>>('evalTicketClassification', {
          taskQueue: governor.taskQueue,
          workflowId: rerunId,
          args: [args],
          memo: { rerunOf: original.workflowId, promptVersion: `${fixed.name}@${fixed.version}` },
          workflowExecutionTimeout: '10m',
        });
        const changed = now.category !== original.category || now.urgency !== original.urgency;
        return { original, rerunId, now, changed };
      }),
    ),
  );
}

/**
 * Every triage run a person corrected, as a regression eval case in the seed's structured form (the run, what the
 * model said, what the person set instead, why and who), from the store's review records: a reviewer's correction
 * (verdict `corrected`) and a grader's `incorrect` grade that carries the right labels. Records without the ticket or
 * without labels cannot be a case and are left out. Bounded by `max`.
 */
export async function correctionsAsCases(source: ReviewSource, o: { readonly since?: Date; readonly max?: number } = {}): Promise<EvalCase[]> {
  const max = o.max ?? 500;
  const [corrections, grades] = await Promise.all([
    source.list({ kind: 'correction', workflowType: 'supportTicketTriage', since: o.since, limit: 5000 }),
    source.list({ kind: 'grade', workflowType: 'supportTicketTriage', since: o.since, limit: 5000 }),
  ]);
  const cases: EvalCase[] = [];
  for (const r of [...corrections.filter((c) => c.verdict === 'corrected'), ...grades.filter((g) => g.verdict === 'incorrect')]) {
    const input = Ticket.safeParse(r.input);
    const corrected = Labels.safeParse(r.corrected);
    if (!input.success || !corrected.success) continue;
    const original = Labels.partial().safeParse(r.original ?? {});
    cases.push({
      id: `${r.kind === 'grade' ? 'grade' : 'corr'}-${r.workflowId.replace(/[^\w-]/g, '_')}`,
      input: input.data,
      expected: corrected.data,
      source: {
        kind: r.kind,
        workflowId: r.workflowId,
        runId: r.runId,
        original: { category: original.data?.category ?? null, urgency: original.data?.urgency ?? null },
        corrected: corrected.data,
        reason: r.reason,
        reviewer: r.reviewer,
        correctedAt: r.createdAt,
      },
    });
    if (cases.length >= max) break;
  }
  return cases;
}

const Ticket = z.object({ subject: z.string(), body: z.string() });
const Labels = z.object({ category: z.string(), urgency: z.string() });
