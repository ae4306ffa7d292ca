import { z } from 'zod';
import { defineTool, READ_PROFILE, WRITE_PROFILE, toolRegistry } from 'governor';
import { id } from './contracts/ticket.js';

/**
 * The support domain's tools, declared once each: what a model may propose, what the policy checks, what the
 * worker executes (implementations in `tool-implementations.ts`, registered with the worker).
 */
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

export const REVIEW_TEAM = 'support-reviewers@governor.internal';

export const remindReviewers = defineTool({
  name: 'remind_reviewers',
  description: "Emails the review team that a run's review is still waiting, before its deadline.",
  kind: 'write',
  args: z.strictObject({
    ...ToolStepFields,
    ticketId: z.string(),
    reviewers: z.array(z.string()).min(1),
    deadline: z.string(),
  }),
  result: z.object({ messageId: z.string(), recipient: z.string() }),
  resources: (a) => [`review:${a.workflowId}`],
  risk: 'low',
  scope: 'reviews:remind',
  profile: WRITE_PROFILE,
});

/** Every tool of the support domain, by name: what its workflows offer and validate against. */
export const SUPPORT_TOOLS = toolRegistry([
  getTicket,
  getCustomer,
  getRecentComplaints,
  addTicketNote,
  sendEscalationEmail,
  sendCustomerEmail,
  issueRefund,
  collectDataset,
  readArtifact,
  applyTriageDecision,
  createEscalation,
  remindReviewers,
]);
