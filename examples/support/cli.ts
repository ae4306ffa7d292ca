/**
 * `npm run governor`: Governor's CLI for the support workflows, with shortcuts for their decisions (approve, reject,
 * correct, approve-action, resolve) and the start flags of their configs. Everything else is the generic CLI.
 */
import { InvalidArgumentError, Option } from 'commander';
import { runAsMain, runCli, type CliOptions } from 'governor/client';
import { addEvalCommands, addRerunCommand } from './evals/commands.js';
import { SUPPORT_SLOS } from './slos.js';
import { Category, Urgency } from './contracts/triage.js';
import { SUPPORT_WORKFLOWS } from './definitions.js';

function probability(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new InvalidArgumentError('must be a number from 0 to 1');
  return n;
}

function list(value: string): string[] {
  return value.split(',').map((s) => s.trim()).filter(Boolean);
}

export const SUPPORT_CLI: CliOptions = {
  workflows: SUPPORT_WORKFLOWS,
  slos: SUPPORT_SLOS,
  startFlags: [
    { flags: '--reviewers <ids>', description: 'comma-separated reviewer ids allowed to decide a triage run', configKey: 'reviewers', parse: list },
    { flags: '--threshold <p>', description: 'confidence below which the run goes to a person (0..1)', configKey: 'confidenceThreshold', parse: probability },
    { flags: '--review-deadline <duration>', description: 'how long a triage review may wait before escalation, e.g. 30m, 24h', configKey: 'reviewDeadline' },
    { flags: '--approvers <ids>', description: 'comma-separated ids who may resolve what a complaint run escalates to a person', configKey: 'approvers', parse: list },
  ],
  examples: [
    '  governor start examples/support/tickets/01-charged-twice.json --wait',
    '  governor approve triage/evt_01HY9K2P0A7 --reviewer usr_442',
    '  governor correct triage/evt_01HY9K2P0A7 --reviewer usr_442 --category billing --urgency high',
    '  governor start examples/support/complaints/01-card-third-time.json --wait',
    '  governor approve-action complaint/evt_1 send_customer_email#1 --reviewer usr_442',
    '  governor resolve complaint/evt_1 --reviewer usr_442 --note "refund declined"',
  ],
  extend(program, h) {
    addEvalCommands(program, h);
    addRerunCommand(program, h);
    const review = (action: 'approve' | 'reject', description: string) =>
      program
        .command(action)
        .description(description)
        .argument('<workflowId>')
        .addOption(h.reviewerOption())
        .option('--note <text>', 'why (kept with the decision)')
        .action((workflowId: string, opts: { reviewer: string; note?: string }) =>
          h.decide(workflowId, 'review', { action, reviewerId: opts.reviewer, note: opts.note }, (a) => `accepted: ${a.action} by ${a.reviewerId} on ${workflowId}`),
        );
    review('approve', "Approve the model's classification of a triage run waiting for review.");
    review('reject', 'Reject a triage run: nothing is applied to the ticket.');
    program
      .command('correct')
      .description("Apply your own category and urgency instead of the model's.")
      .argument('<workflowId>')
      .addOption(h.reviewerOption())
      .addOption(new Option('--category <category>').choices(Category.options).makeOptionMandatory())
      .addOption(new Option('--urgency <urgency>').choices(Urgency.options).makeOptionMandatory())
      .option('--note <text>', 'why (kept with the decision; becomes an eval case)')
      .action((workflowId: string, opts: { reviewer: string; category: string; urgency: string; note?: string }) =>
        h.decide(
          workflowId,
          'review',
          { action: 'correct', reviewerId: opts.reviewer, corrected: { category: opts.category, urgency: opts.urgency }, note: opts.note },
          (a) => `accepted: ${a.action} by ${a.reviewerId} on ${workflowId}`,
        ),
      );
    program
      .command('approve-action')
      .description('Approve (or with --reject, refuse) an action a complaint run holds for a person.')
      .argument('<workflowId>')
      .argument('<stepId>', 'the held step, as `governor status` lists it')
      .addOption(h.reviewerOption())
      .option('--reject', 'refuse the action instead')
      .option('--note <text>', "why (a rejection's note is kept in the evidence)")
      .action((workflowId: string, step: string, opts: { reviewer: string; reject?: boolean; note?: string }) =>
        h.decide(workflowId, 'approve-action', { stepId: step, approved: !opts.reject, reviewerId: opts.reviewer, note: opts.note }, () => `${opts.reject ? 'rejected' : 'approved'} ${step} on ${workflowId}`),
      );
    program
      .command('resolve')
      .description('Close what a complaint run escalated to a person (a denied or failed action, an unreviewable decision).')
      .argument('<workflowId>')
      .addOption(h.reviewerOption())
      .option('--note <text>', 'what was done')
      .action((workflowId: string, opts: { reviewer: string; note?: string }) =>
        h.decide(workflowId, 'resolve', { reviewerId: opts.reviewer, note: opts.note }, () => `resolved ${workflowId}`),
      );
  },
};

if (import.meta.url === `file://${process.argv[1]}`) await runAsMain(() => runCli(process.argv, SUPPORT_CLI));
