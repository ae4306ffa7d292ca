import { readFile } from 'node:fs/promises';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { ComplaintState } from '../examples/support/contracts/complaint.js';
import type { EvidenceRecord } from '../contracts/evidence.js';
import { Category, Urgency, type TriageState } from '../examples/support/contracts/triage.js';
import { GovernorClient, InvalidInputError, type DecideResult, type UpdateResult } from './index.js';
import { evidenceSource, type EvidenceSourceOptions } from './evidence-source.js';

/**
 * `governor`: start governed runs from trigger events, decide reviews, read state.
 * Exit codes: 0 done; 1 could not reach Temporal or the run failed; 2 bad input (nothing was started or sent);
 * 3 the decision was refused (already decided, not authorised, not awaiting review, unknown run).
 */
export const EXIT = { ok: 0, failure: 1, badInput: 2, refused: 3 } as const;

class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

async function readInput(file: string | undefined): Promise<string> {
  if (file && file !== '-') {
    try {
      return await readFile(file, 'utf8');
    } catch (err) {
      throw new CliError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, EXIT.badInput);
    }
  }
  if (process.stdin.isTTY) throw new CliError('give a trigger event file, or pipe one on standard input', EXIT.badInput);
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function probability(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new InvalidArgumentError('must be a number from 0 to 1');
  return n;
}

function list(value: string): string[] {
  return value.split(',').map((s) => s.trim()).filter(Boolean);
}

function printState(state: TriageState): void {
  const c = state.classification;
  const lines = [
    `run          ${state.workflowId}`,
    `phase        ${state.phase}`,
    `ticket       ${state.ticketId} (event ${state.eventId})`,
    `prompt       ${state.prompt ? `${state.prompt.name}@${state.prompt.version} on ${state.prompt.provider}/${state.prompt.model}` : '-'}`,
    `model says   ${c ? `${c.category} / ${c.urgency}, confidence ${c.confidence}: ${c.reason}` : '-'}`,
    `model calls  ${state.modelCalls.map((m) => `${m.valid ? 'valid' : `invalid (${m.issues.join('; ')})`}`).join(', ') || '-'}`,
  ];
  if (state.pendingReview) {
    lines.push(`review       ${state.pendingReview.reason}: ${state.pendingReview.detail}`);
    lines.push(`             reviewers ${state.pendingReview.reviewers.join(', ')}; due ${state.pendingReview.deadline}`);
  }
  if (state.review) lines.push(`reviewed     ${state.review.action} by ${state.review.reviewerId}${state.review.note ? `: ${state.review.note}` : ''}`);
  lines.push(`outcome      ${state.outcome ?? '-'}`);
  for (const s of state.steps) lines.push(`step         ${s.id} ${s.status}${s.evidenceId ? ` evidence ${s.evidenceId}` : ''}${s.detail ? ` (${s.detail})` : ''}`);
  if (state.rejectedSignals.length > 0) lines.push(`ignored      ${state.rejectedSignals.join('; ')}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

function printComplaintState(state: ComplaintState): void {
  const d = state.decision;
  const lines = [
    `run          ${state.workflowId}`,
    `phase        ${state.phase}`,
    `complaint    ${state.complaintId} on ${state.ticketId}`,
    `model says   ${d ? `escalate ${d.escalate}, ${d.severity}: ${d.reason}` : '-'}`,
  ];
  for (const s of state.steps) lines.push(`step         ${s.stepId} ${s.tool} ${s.status}${s.evidenceId ? ` evidence ${s.evidenceId}` : ''}${s.detail ? ` (${s.detail})` : ''}`);
  for (const p of state.pendingApprovals) lines.push(`approval     ${p.stepId} ${p.tool}: ${p.reason}; approvers ${p.approvers.join(', ')}; due ${p.deadline}`);
  for (const t of state.humanTasks) lines.push(`human        ${t.reason}: ${t.detail}`);
  for (const c of state.checkpoints) lines.push(`checkpoint   ${c.at} ${c.name} ${JSON.stringify(c.data)}`);
  if (state.summary) lines.push(...state.summary.text.split('\n').map((l) => `summary      ${l}`));
  lines.push(`outcome      ${state.outcome ?? '-'}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

function printEvidence(records: readonly EvidenceRecord[]): void {
  const rows = records.map((r) => [
    String(r.seq),
    r.evidenceId,
    r.stepId,
    r.actor,
    r.tool,
    r.status,
    `${r.permission}${r.approver ? ` by ${r.approver}` : ''} (${r.policyRule || '-'})`,
    r.receiptId ?? '-',
    r.startedAt.slice(11, 23),
    `${Date.parse(r.finishedAt) - Date.parse(r.startedAt)} ms`,
    r.detail ?? '',
  ]);
  const head = ['SEQ', 'EVIDENCE', 'STEP', 'ACTOR', 'TOOL', 'STATUS', 'PERMISSION', 'RECEIPT', 'STARTED', 'TOOK', 'DETAIL'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const r of [head, ...rows]) process.stdout.write(`${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd()}\n`);
}

export function buildProgram(): Command {
  const program = new Command('governor')
    .description('Governed AI workflows on Temporal: start triage runs, review what the model proposed, inspect runs.')
    .showHelpAfterError()
    // Set before the subcommands exist so they inherit it: errors come back to main(), which picks the exit code.
    .exitOverride()
    .addOption(new Option('--address <host:port>', 'Temporal frontend').env('TEMPORAL_ADDRESS').default('127.0.0.1:7233'))
    .addOption(new Option('--namespace <name>', 'Temporal namespace').env('TEMPORAL_NAMESPACE').default('default'))
    .addHelpText(
      'after',
      `
Examples:
  governor start ticket.json                 start a triage run from a support_ticket.created event
  cat ticket.json | governor start -         the same, from standard input
  governor pending                           runs waiting for a reviewer
  governor status triage/evt_01HY9K2P0A7     what a run did, and where it is now
  governor approve triage/evt_01HY9K2P0A7 --reviewer usr_442
  governor correct triage/evt_01HY9K2P0A7 --reviewer usr_442 --category billing --urgency high
  governor breakers                          circuit breakers of the worker at GOVERNOR_METRICS_URL
  governor complaint complaint.json --wait   start a complaint escalation from a complaint.received event
  governor approve-action complaint/evt_1 send_customer_email#1 --reviewer usr_442
  governor resolve complaint/evt_1 --reviewer usr_442 --note "refund declined"
  governor evidence complaint/evt_1          the run's evidence records, as a table
  governor verify                            check the evidence hash chains; names any altered record

Exit codes: 0 ok, 1 Temporal unreachable or run failed, 2 bad input (nothing started), 3 decision refused.`,
    );

  const connect = () => {
    const opts = program.opts<{ address: string; namespace: string }>();
    return GovernorClient.connect({ address: opts.address, namespace: opts.namespace });
  };
  const withClient = async <T>(fn: (client: GovernorClient) => Promise<T>): Promise<T> => {
    const client = await connect();
    try {
      return await fn(client);
    } finally {
      await client.close();
    }
  };

  program
    .command('start')
    .description('Start a triage run from a support_ticket.created event (a duplicate event id returns the existing run).')
    .argument('[file]', 'JSON file with the trigger event; - or omitted reads standard input')
    .option('--reviewers <ids>', 'comma-separated reviewer ids allowed to decide this run', list)
    .option('--threshold <p>', 'confidence below which the run goes to review (0..1)', probability)
    .option('--review-deadline <duration>', 'how long a review may wait before escalation, e.g. 30m, 24h')
    .addOption(new Option('--provider <name>', 'model provider').choices(['anthropic', 'openai']))
    .option('--model <name>', 'model name (default: the prompt spec\'s model for the provider)')
    .option('--wait', 'wait for the run to finish or to stop for review, then print its state')
    .option('--json', 'print machine-readable JSON')
    .action(async (file: string | undefined, opts: { reviewers?: string[]; threshold?: number; reviewDeadline?: string; provider?: 'anthropic' | 'openai'; model?: string; wait?: boolean; json?: boolean }) => {
      const raw = await readInput(file);
      const config = {
        ...(opts.reviewers ? { reviewers: opts.reviewers } : {}),
        ...(opts.threshold !== undefined ? { confidenceThreshold: opts.threshold } : {}),
        ...(opts.reviewDeadline ? { reviewDeadline: opts.reviewDeadline } : {}),
        ...(opts.provider || opts.model
          ? { model: { provider: opts.provider ?? 'anthropic', model: opts.model ?? '' } }
          : {}),
      };
      if (config.model && !config.model.model) {
        const { supportTicketClassifier } = await import('../examples/support/prompts/support-ticket-classifier.js');
        config.model.model = supportTicketClassifier.models[config.model.provider];
      }
      await withClient(async (client) => {
        const started = await client.startTriage(raw, config);
        let state: TriageState | undefined;
        if (opts.wait) {
          const deadline = Date.now() + 120_000;
          for (;;) {
            state = await client.getState(started.workflowId).catch(() => undefined);
            if (state && (state.phase === 'completed' || state.phase === 'awaiting_review')) break;
            if (Date.now() > deadline) throw new CliError(`run ${started.workflowId} did not settle within 120s`, EXIT.failure);
            await new Promise((r) => setTimeout(r, 250));
          }
        }
        if (opts.json) {
          process.stdout.write(`${JSON.stringify({ ...started, state }, null, 2)}\n`);
        } else {
          process.stdout.write(`${started.started ? 'started' : 'already started (duplicate event id)'}: ${started.workflowId}\n`);
          if (state) printState(state);
        }
      });
    });

  program
    .command('status')
    .description("Show a run's state: phase, prompt version, model output, steps with evidence ids, pending review.")
    .argument('<workflowId>')
    .option('--json', 'print machine-readable JSON')
    .action(async (workflowId: string, opts: { json?: boolean }) => {
      await withClient(async (client) => {
        const complaint = workflowId.startsWith('complaint/');
        const state = await (complaint ? client.complaintState(workflowId) : client.getState(workflowId)).catch((err: Error) => {
          throw new CliError(`cannot read ${workflowId}: ${err.message}`, /not found/i.test(err.message) ? EXIT.badInput : EXIT.failure);
        });
        if (opts.json) process.stdout.write(`${JSON.stringify(state, null, 2)}\n`);
        else if (complaint) printComplaintState(state as ComplaintState);
        else printState(state as TriageState);
      });
    });

  program
    .command('pending')
    .description('List runs waiting for a person: triage reviews, complaint actions held for approval, human tasks.')
    .option('--json', 'print machine-readable JSON')
    .action(async (opts: { json?: boolean }) => {
      await withClient(async (client) => {
        const items = await client.listPending();
        if (opts.json) return void process.stdout.write(`${JSON.stringify(items, null, 2)}\n`);
        if (items.length === 0) return void process.stdout.write('no runs are waiting for review\n');
        for (const i of items) process.stdout.write(`${i.workflowId}\t${i.phase ?? '-'}\t${i.category ?? '-'}\t${i.urgency ?? '-'}\tstarted ${i.startedAt}\n`);
      });
    });

  const decide = async (workflowId: string, decision: Record<string, unknown>) => {
    const result: DecideResult = await withClient((client) => client.decide(workflowId, decision));
    if (result.status === 'accepted') {
      process.stdout.write(`accepted: ${result.action} by ${result.reviewerId} on ${workflowId}\n`);
      return;
    }
    throw new CliError(`${result.status.replace(/_/g, ' ')}: ${result.message}`, result.status === 'invalid' ? EXIT.badInput : EXIT.refused);
  };
  const reviewer = new Option('--reviewer <id>', 'your reviewer id (must be allowed for the run)').makeOptionMandatory().env('GOVERNOR_REVIEWER');

  program
    .command('approve')
    .description("Approve the model's classification of a run waiting for review.")
    .argument('<workflowId>')
    .addOption(reviewer)
    .option('--note <text>', 'why (kept with the decision)')
    .action((workflowId: string, opts: { reviewer: string; note?: string }) => decide(workflowId, { action: 'approve', reviewerId: opts.reviewer, note: opts.note }));

  program
    .command('reject')
    .description('Reject the run: nothing is applied to the ticket.')
    .argument('<workflowId>')
    .addOption(reviewer)
    .option('--note <text>', 'why (kept with the decision)')
    .action((workflowId: string, opts: { reviewer: string; note?: string }) => decide(workflowId, { action: 'reject', reviewerId: opts.reviewer, note: opts.note }));

  program
    .command('correct')
    .description('Apply your own category and urgency instead of the model\'s.')
    .argument('<workflowId>')
    .addOption(reviewer)
    .addOption(new Option('--category <category>').choices(Category.options).makeOptionMandatory())
    .addOption(new Option('--urgency <urgency>').choices(Urgency.options).makeOptionMandatory())
    .option('--note <text>', 'why (kept with the decision; becomes an eval case)')
    .action((workflowId: string, opts: { reviewer: string; category: string; urgency: string; note?: string }) =>
      decide(workflowId, { action: 'correct', reviewerId: opts.reviewer, corrected: { category: opts.category, urgency: opts.urgency }, note: opts.note }),
    );

  const sourceOptions = (cmd: Command) =>
    cmd
      .addOption(new Option('--database-url <url>', 'read the evidence from this PostgreSQL database').env('DATABASE_URL'))
      .addOption(new Option('--data-dir <dir>', 'read an embedded (PGlite) store directly; only while no worker has it open'))
      .addOption(new Option('--metrics-url <url>', "otherwise ask the worker that owns the store").env('GOVERNOR_METRICS_URL').default('http://127.0.0.1:9464'))
      .option('--json', 'print machine-readable JSON');

  sourceOptions(
    program
      .command('evidence')
      .description("Show a run's evidence records as a table: what ran, on whose authority, with what result, in order.")
      .argument('<workflowId>'),
  ).action(async (workflowId: string, opts: EvidenceSourceOptions & { json?: boolean }) => {
    const source = await evidenceSource(opts);
    try {
      const records = await source.list(workflowId);
      if (opts.json) return void process.stdout.write(`${JSON.stringify(records, null, 2)}\n`);
      if (records.length === 0) throw new CliError(`no evidence for ${workflowId} in ${source.describe}`, EXIT.refused);
      printEvidence(records);
    } finally {
      await source.close();
    }
  });

  sourceOptions(
    program
      .command('verify')
      .description('Check the evidence hash chains (one run, or all): exits 1 and names each altered, removed or reordered record.')
      .argument('[workflowId]'),
  ).action(async (workflowId: string | undefined, opts: EvidenceSourceOptions & { json?: boolean }) => {
    const source = await evidenceSource(opts);
    try {
      const report = await source.verify(workflowId);
      if (opts.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      else {
        process.stdout.write(`checked ${report.records} records in ${report.workflows} chains${report.unchained ? ` (${report.unchained} written before the chain existed, not checked)` : ''}\n`);
        for (const p of report.problems) process.stdout.write(`TAMPERED  ${p.evidenceId} (seq ${p.seq}, ${p.workflowId}): ${p.problem}\n`);
        if (report.problems.length === 0) process.stdout.write('ok: every record matches its hash and its chain\n');
      }
      if (report.problems.length > 0) throw new CliError(`${report.problems.length} evidence record(s) failed verification`, EXIT.failure);
    } finally {
      await source.close();
    }
  });

  program
    .command('complaint')
    .description('Start a complaint escalation from a complaint.received event (a duplicate event id returns the existing run).')
    .argument('[file]', 'JSON file with the event; - or omitted reads standard input')
    .option('--approvers <ids>', 'comma-separated ids who may resolve what the run escalates to a human (action approvers come from the policy)', list)
    .option('--wait', 'wait for the run to finish (or to need a human) and print its state')
    .action(async (file: string | undefined, opts: { approvers?: string[]; wait?: boolean }) => {
      const raw = await readInput(file);
      await withClient(async (client) => {
        const started = await client.startComplaint(raw, opts.approvers ? { approvers: opts.approvers } : {});
        process.stdout.write(`${started.started ? 'started' : 'already exists'}: ${started.workflowId}\n`);
        if (!opts.wait) return;
        // Bounded like the triage --wait: a run that is still acting after two minutes is reported as it stands.
        const deadline = Date.now() + 120_000;
        for (;;) {
          const state = await client.complaintState(started.workflowId);
          if (['completed', 'awaiting_human', 'awaiting_approval'].includes(state.phase) || Date.now() > deadline) return printComplaintState(state);
          await new Promise((r) => setTimeout(r, 250));
        }
      });
    });

  const answered = (result: UpdateResult<object>, what: string) => {
    if (result.status === 'accepted') return void process.stdout.write(`${what}\n`);
    throw new CliError(`${result.status.replace(/_/g, ' ')}: ${result.message}`, result.status === 'invalid' ? EXIT.badInput : EXIT.refused);
  };

  program
    .command('approve-action')
    .description('Approve (or with --reject, refuse) an action a complaint run holds for a human.')
    .argument('<workflowId>')
    .argument('<stepId>', 'the held step, as `governor status` lists it')
    .addOption(reviewer)
    .option('--reject', 'refuse the action instead')
    .option('--note <text>', 'why (a rejection\'s note is kept in the evidence)')
    .action(async (workflowId: string, step: string, opts: { reviewer: string; reject?: boolean; note?: string }) => {
      const result = await withClient((c) => c.approveAction(workflowId, { stepId: step, approved: !opts.reject, reviewerId: opts.reviewer, note: opts.note }));
      answered(result, `${opts.reject ? 'rejected' : 'approved'} ${step} on ${workflowId}`);
    });

  program
    .command('resolve')
    .description('Close what a complaint run escalated to a human (a denied or failed action, an unreviewable decision).')
    .argument('<workflowId>')
    .addOption(reviewer)
    .option('--note <text>', 'what was done')
    .action(async (workflowId: string, opts: { reviewer: string; note?: string }) => {
      const result = await withClient((c) => c.resolve(workflowId, { reviewerId: opts.reviewer, note: opts.note }));
      answered(result, `resolved ${workflowId}`);
    });

  program
    .command('breakers')
    .description("Show a worker's circuit breakers (per provider and tool): state, times opened, calls refused while open.")
    .addOption(new Option('--metrics-url <url>', "the worker's metrics address").env('GOVERNOR_METRICS_URL').default('http://127.0.0.1:9464'))
    .option('--json', 'print machine-readable JSON')
    .action(async (opts: { metricsUrl: string; json?: boolean }) => {
      let breakers: Array<{ name: string; state: string; opened: number; rejected: number }>;
      try {
        const res = await fetch(`${opts.metricsUrl.replace(/\/$/, '')}/breakers`, { signal: AbortSignal.timeout(5_000) });
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        breakers = (await res.json()) as typeof breakers;
      } catch (err) {
        throw new CliError(`cannot read breakers from ${opts.metricsUrl} (${(err as Error).message}); is a worker running there?`, EXIT.failure);
      }
      if (opts.json) return void process.stdout.write(`${JSON.stringify(breakers, null, 2)}\n`);
      if (breakers.length === 0) return void process.stdout.write('no breakers yet: the worker has made no guarded calls\n');
      process.stdout.write(`${'BREAKER'.padEnd(24)} ${'STATE'.padEnd(10)} ${'OPENED'.padEnd(7)} REFUSED\n`);
      for (const b of breakers) process.stdout.write(`${b.name.padEnd(24)} ${b.state.padEnd(10)} ${String(b.opened).padEnd(7)} ${b.rejected}\n`);
    });

  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return EXIT.ok;
  } catch (err) {
    if (err instanceof CliError) {
      process.stderr.write(`governor: ${err.message}\n`);
      return err.exitCode;
    }
    if (err instanceof InvalidInputError) {
      process.stderr.write(`governor: invalid ${err.what}; nothing was started:\n${err.issues.map((i) => `  ${i.field}: ${i.rule}`).join('\n')}\n`);
      return EXIT.badInput;
    }
    const code = (err as { code?: string; exitCode?: number }).code;
    if (typeof code === 'string' && code.startsWith('commander.')) {
      // commander already printed the message (or the help).
      return code === 'commander.helpDisplayed' || code === 'commander.version' || code === 'commander.help' ? EXIT.ok : EXIT.badInput;
    }
    process.stderr.write(`governor: ${(err as Error).message}\n`);
    return EXIT.failure;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  // `governor pending | head` closes the pipe early: that is the reader being done, not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  process.exitCode = await main(process.argv);
}
