import { z } from 'zod';
import { issuesFrom, type ValidationIssue } from './issues';
import { id } from './trigger';

/** Risk levels in increasing order; the permission policy can require approval at or above one. */
export const Risk = z.enum(['low', 'medium', 'high', 'critical']);
export type Risk = z.infer<typeof Risk>;
export const RISK_ORDER: readonly Risk[] = Risk.options;

/** How a tool's activity is timed and retried. Writes are retried safely because they dedupe on the idempotency key. */
export interface ToolProfile {
  readonly startToCloseTimeout: string;
  readonly maximumAttempts: number;
  readonly initialInterval: string;
  readonly maximumInterval: string;
}

/** Reads are cheap and side-effect free: fail fast per attempt, retry a few times. */
export const READ_PROFILE: ToolProfile = { startToCloseTimeout: '5s', maximumAttempts: 4, initialInterval: '300ms', maximumInterval: '5s' };
/** Writes ride out a database restart (5 attempts over about a minute); the idempotency key makes each safe. */
export const WRITE_PROFILE: ToolProfile = { startToCloseTimeout: '10s', maximumAttempts: 5, initialInterval: '1s', maximumInterval: '30s' };

/**
 * A tool, declared once: what the model may propose, what the policy checks, what the tool layer executes. Pure
 * data and functions, so workflows validate arguments and derive resources before anything runs.
 */
export interface ToolSpec<A = unknown, R = unknown> {
  readonly name: string;
  readonly description: string;
  /** Reads run in parallel and never wait on leases; writes hold a lease on each resource they touch. */
  readonly kind: 'read' | 'write';
  readonly args: z.ZodType<A>;
  readonly result: z.ZodType<R>;
  /** The resources a call touches, from its arguments (`ticket:tkt_9041`). */
  resources(args: A): string[];
  readonly risk: Risk;
  /** The scope an actor must hold to call it. */
  readonly scope: string;
  readonly profile: ToolProfile;
}

export function defineTool<A, R>(spec: ToolSpec<A, R>): ToolSpec<A, R> {
  return spec;
}

// The same id rules as the trigger contracts: an id a trigger accepts, a tool accepts.
const TicketId = id('tkt');
const CustomerId = id('cus');
const ComplaintId = id('cmp');

export const getTicket = defineTool({
  name: 'get_ticket',
  description: "Reads a ticket's triage decision and notes.",
  kind: 'read',
  args: z.strictObject({ ticketId: TicketId }),
  result: z.object({
    ticketId: z.string(),
    triage: z.object({ category: z.string(), urgency: z.string() }).nullable(),
    notes: z.array(z.object({ author: z.string(), note: z.string(), at: z.string() })),
  }),
  resources: (a) => [`ticket:${a.ticketId}`],
  risk: 'low',
  scope: 'tickets:read',
  profile: READ_PROFILE,
});

export const getCustomer = defineTool({
  name: 'get_customer',
  description: "Reads a customer's support record: tickets triaged, escalations, refunds.",
  kind: 'read',
  args: z.strictObject({ customerId: CustomerId }),
  result: z.object({ customerId: z.string(), ticketsTriaged: z.number(), escalations: z.number(), refundedCents: z.number() }),
  resources: (a) => [`customer:${a.customerId}`],
  risk: 'low',
  scope: 'customers:read',
  profile: READ_PROFILE,
});

export const getRecentComplaints = defineTool({
  name: 'get_recent_complaints',
  description: 'Lists escalation emails already sent about this customer.',
  kind: 'read',
  args: z.strictObject({ customerId: CustomerId }),
  result: z.object({ count: z.number(), subjects: z.array(z.string()) }),
  resources: (a) => [`complaints:${a.customerId}`],
  risk: 'low',
  scope: 'customers:read',
  profile: READ_PROFILE,
});

export const addTicketNote = defineTool({
  name: 'add_ticket_note',
  description: 'Adds an internal note to a ticket.',
  kind: 'write',
  args: z.strictObject({ ticketId: TicketId, note: z.string().min(1).max(2000) }),
  result: z.object({ noteId: z.string() }),
  resources: (a) => [`ticket:${a.ticketId}`],
  risk: 'low',
  scope: 'tickets:write',
  profile: WRITE_PROFILE,
});

export const ESCALATION_TEAMS = ['support-escalations@governor.internal', 'billing-escalations@governor.internal'] as const;

export const sendEscalationEmail = defineTool({
  name: 'send_escalation_email',
  description: 'Emails the internal escalation team about a complaint.',
  kind: 'write',
  args: z.strictObject({
    complaintId: ComplaintId,
    ticketId: TicketId,
    customerId: CustomerId,
    to: z.enum(ESCALATION_TEAMS),
    severity: z.enum(['medium', 'high', 'critical']),
    summary: z.string().min(1).max(2000),
  }),
  result: z.object({ messageId: z.string(), recipient: z.string() }),
  resources: (a) => [`ticket:${a.ticketId}`],
  risk: 'medium',
  scope: 'email:internal',
  profile: WRITE_PROFILE,
});

export const sendCustomerEmail = defineTool({
  name: 'send_customer_email',
  description: 'Emails the customer (an external message).',
  kind: 'write',
  args: z.strictObject({ customerId: CustomerId, subject: z.string().min(1).max(200), body: z.string().min(1).max(5000) }),
  result: z.object({ messageId: z.string(), recipient: z.string() }),
  resources: (a) => [`customer:${a.customerId}`],
  risk: 'high',
  scope: 'email:customer',
  profile: WRITE_PROFILE,
});

export const issueRefund = defineTool({
  name: 'issue_refund',
  description: "Refunds money to a customer's payment method.",
  kind: 'write',
  args: z.strictObject({ customerId: CustomerId, amountCents: z.number().int().positive().max(10_000_000), reason: z.string().min(1).max(500) }),
  result: z.object({ refundId: z.string() }),
  resources: (a) => [`customer:${a.customerId}`],
  risk: 'critical',
  scope: 'payments:refund',
  profile: WRITE_PROFILE,
});

export const collectDataset = defineTool({
  name: 'collect_dataset',
  description: 'Collects triaged tickets of one category into a stored, hashed dataset artifact.',
  kind: 'write',
  args: z.strictObject({ category: z.string().min(1).max(40), limit: z.number().int().min(1).max(500).default(100) }),
  result: z.object({ artifactId: z.string(), rows: z.number(), contentHash: z.string(), scope: z.string() }),
  resources: (a) => [`dataset:${a.category}`],
  risk: 'low',
  scope: 'analytics:collect',
  profile: WRITE_PROFILE,
});

export const readArtifact = defineTool({
  name: 'read_artifact',
  description: 'Reads a stored artifact by id.',
  kind: 'read',
  args: z.strictObject({ artifactId: z.string().regex(/^art_[0-9a-f]{16}$/, 'must be an artifact id like art_0123456789abcdef') }),
  result: z.object({ artifactId: z.string(), scope: z.string(), contentHash: z.string(), content: z.unknown() }),
  resources: (a) => [`artifact:${a.artifactId}`],
  risk: 'low',
  scope: 'analytics:read',
  profile: READ_PROFILE,
});

const ToolStepFields = { workflowId: z.string(), stepId: z.string(), idempotencyKey: z.string() };

export const applyTriageDecision = defineTool({
  name: 'apply_triage_decision',
  description: 'Records the triage labels and outcome on a ticket.',
  kind: 'write',
  args: z.strictObject({
    ...ToolStepFields,
    eventId: z.string(),
    ticketId: z.string(),
    customerId: z.string(),
    category: z.string(),
    urgency: z.string(),
    outcome: z.string(),
    decidedBy: z.string(),
    promptVersion: z.string(),
    model: z.string(),
  }),
  result: z.object({ decision: z.string() }),
  resources: (a) => [`ticket:${a.ticketId}`],
  risk: 'low',
  scope: 'tickets:triage',
  profile: WRITE_PROFILE,
});

export const createEscalation = defineTool({
  name: 'create_escalation',
  description: 'Puts a ticket in the escalation queue a human team works from.',
  kind: 'write',
  args: z.strictObject({
    ...ToolStepFields,
    ticketId: z.string(),
    customerId: z.string(),
    reason: z.enum(['urgent_billing', 'review_deadline_passed']),
    priority: z.enum(['high', 'normal']),
  }),
  result: z.object({ escalationId: z.string() }),
  resources: (a) => [`escalation:${a.ticketId}`],
  risk: 'low',
  scope: 'escalations:write',
  profile: WRITE_PROFILE,
});

/** The registry: every tool an agent or workflow can name. Unknown names never reach the tool layer. */
export const TOOLS = {
  get_ticket: getTicket,
  get_customer: getCustomer,
  get_recent_complaints: getRecentComplaints,
  add_ticket_note: addTicketNote,
  send_escalation_email: sendEscalationEmail,
  send_customer_email: sendCustomerEmail,
  issue_refund: issueRefund,
  collect_dataset: collectDataset,
  read_artifact: readArtifact,
  apply_triage_decision: applyTriageDecision,
  create_escalation: createEscalation,
} as const;

export type ToolName = keyof typeof TOOLS;
export type ToolArgs<N extends ToolName> = z.infer<(typeof TOOLS)[N]['args']>;
export type ToolResult<N extends ToolName> = z.infer<(typeof TOOLS)[N]['result']>;

export function isToolName(name: string): name is ToolName {
  return Object.prototype.hasOwnProperty.call(TOOLS, name);
}

export function toolSpec(name: ToolName): ToolSpec {
  return TOOLS[name] as unknown as ToolSpec;
}

/** Checks a proposed call against the registry: known tool, offered to this caller, arguments valid. */
export function checkToolCall(
  tool: string,
  args: unknown,
  offered?: readonly string[],
): { readonly ok: true; readonly spec: ToolSpec; readonly args: unknown } | { readonly ok: false; readonly issues: ValidationIssue[] } {
  if (!isToolName(tool) || (offered && !offered.includes(tool))) {
    return { ok: false, issues: [{ field: 'tool', rule: `unknown tool ${JSON.stringify(tool)}; available: ${(offered ?? Object.keys(TOOLS)).join(', ')}` }] };
  }
  const spec = toolSpec(tool);
  const parsed = spec.args.safeParse(args);
  if (!parsed.success) return { ok: false, issues: issuesFrom(parsed.error).map((i) => ({ field: `args.${i.field}`, rule: i.rule })) };
  return { ok: true, spec, args: parsed.data };
}

/** The facts about a tool the policy decides on (it never sees arguments it could be argued with). */
export interface ToolFacts {
  readonly name: string;
  readonly kind: 'read' | 'write';
  readonly risk: Risk;
  readonly scope: string;
}

export function factsOf(spec: ToolSpec): ToolFacts {
  return { name: spec.name, kind: spec.kind, risk: spec.risk, scope: spec.scope };
}
