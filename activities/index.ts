import { Context } from '@temporalio/activity';
import type { ModelCallRequest, ModelCallResult, ModelRef } from '../contracts/model';
import type { SupportTicketCreated } from '../contracts/trigger';
import type { Category, Outcome, TicketContext, Urgency } from '../contracts/triage';
import type { EvidenceRecord } from '../contracts/evidence';
import { BreakerRegistry } from './breakers';
import { callModel, type Providers } from './model/providers';
import { canonicalJson, executeOnce, sha256, type Store } from './store';

export interface ActivityDeps {
  readonly providers: Providers;
  readonly store: Store;
  /** Shared by every workflow on the worker; one is made when omitted. */
  readonly breakers?: BreakerRegistry;
}

/** The response cache key: the prompt version, the model and the exact input, hashed. */
function cacheKey(req: ModelCallRequest): string {
  return sha256(canonicalJson({ prompt: req.prompt, model: req.model, system: req.system, messages: req.messages, output: req.output }));
}

/** Where a tool execution sits in a run; the workflow supplies it, the activity adds the run id. */
export interface ToolStep {
  readonly workflowId: string;
  readonly stepId: string;
  readonly idempotencyKey: string;
}

export interface ApplyDecisionArgs extends ToolStep {
  readonly eventId: string;
  readonly ticketId: string;
  readonly customerId: string;
  readonly category: Category;
  readonly urgency: Urgency;
  readonly outcome: Outcome;
  readonly decidedBy: string;
  readonly promptVersion: string;
  readonly model: string;
}

export interface EscalationArgs extends ToolStep {
  readonly ticketId: string;
  readonly customerId: string;
  readonly reason: 'urgent_billing' | 'review_deadline_passed';
  readonly priority: 'high' | 'normal';
}

function runId(): string {
  // Activities started by a workflow always carry its execution; standalone activity runs have none.
  return Context.current().info.workflowExecution?.runId ?? 'standalone';
}

/**
 * Activities take their dependencies from the worker that wires them; workflows see only their types.
 */
export function createActivities(deps: ActivityDeps) {
  const { providers, store } = deps;
  const breakers = deps.breakers ?? new BreakerRegistry();
  return {
    /** Loads what the classifier sees beyond the event: the customer's recent triage history. */
    async loadTicketContext(event: SupportTicketCreated): Promise<TicketContext> {
      const history = await store.db.query<{ ticket_id: string; category: string; urgency: string; decided_at: Date }>(
        `select ticket_id, category, urgency, decided_at from decisions
          where customer_id = $1 and ticket_id <> $2 order by decided_at desc limit 5`,
        [event.customer.id, event.ticket.id],
      );
      return {
        ticket: event.ticket,
        customer: event.customer,
        history: history.rows.map((r) => ({
          ticketId: r.ticket_id,
          category: r.category,
          urgency: r.urgency,
          decidedAt: new Date(r.decided_at).toISOString(),
        })),
      };
    },

    /** One model call, through the provider's circuit breaker. */
    async callModel(req: ModelCallRequest): Promise<ModelCallResult> {
      return breakers.execute(`model:${req.model.provider}`, () => callModel(providers, req));
    },

    /** A cached answer for exactly this prompt version, model and input, or null. */
    async cacheGet(req: ModelCallRequest): Promise<{ value: unknown; cachedAt: string } | null> {
      const row = await store.db.query<{ value: unknown; created_at: Date }>('select value, created_at from model_cache where key = $1', [cacheKey(req)]);
      const hit = row.rows[0];
      return hit ? { value: hit.value, cachedAt: new Date(hit.created_at).toISOString() } : null;
    },

    /**
     * The first answer cached for this request by any of `models`, in their order: the same prompt version and input,
     * whichever model produced it. The last resort of a fallback chain whose models all failed.
     */
    async cacheGetAny(req: ModelCallRequest, models: ModelRef[]): Promise<{ value: unknown; cachedAt: string; model: ModelRef } | null> {
      for (const model of models) {
        const row = await store.db.query<{ value: unknown; created_at: Date }>('select value, created_at from model_cache where key = $1', [
          cacheKey({ ...req, model }),
        ]);
        const hit = row.rows[0];
        if (hit) return { value: hit.value, cachedAt: new Date(hit.created_at).toISOString(), model };
      }
      return null;
    },

    async cachePut(req: ModelCallRequest, value: unknown): Promise<void> {
      await store.db.query(
        `insert into model_cache (key, prompt_name, prompt_version, model, value) values ($1, $2, $3, $4, $5)
         on conflict (key) do nothing`,
        [cacheKey(req), req.prompt.name, req.prompt.version, req.model.model, JSON.stringify(value)],
      );
    },

    /** Write tool: records the triage labels on the ticket. Exactly once per idempotency key. */
    async applyTriageDecision(args: ApplyDecisionArgs): Promise<EvidenceRecord> {
      return breakers.execute('tool:apply_triage_decision', () => executeOnce(
        store,
        { tool: 'apply_triage_decision', actor: 'workflow:supportTicketTriage', runId: runId(), ...args, args },
        async (tx) => {
          await tx.query(
            `insert into decisions (workflow_id, event_id, ticket_id, customer_id, category, urgency, outcome, decided_by, prompt_version, model)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
             on conflict (workflow_id) do update set category = excluded.category, urgency = excluded.urgency,
               outcome = excluded.outcome, decided_by = excluded.decided_by, decided_at = now()`,
            [args.workflowId, args.eventId, args.ticketId, args.customerId, args.category, args.urgency, args.outcome, args.decidedBy, args.promptVersion, args.model],
          );
          return `decision:${args.workflowId}`;
        },
      ));
    },

    /** Write tool: puts an escalation in the outbox a human team works from. Exactly once per idempotency key. */
    async createEscalation(args: EscalationArgs): Promise<EvidenceRecord> {
      return breakers.execute('tool:create_escalation', () => executeOnce(
        store,
        { tool: 'create_escalation', actor: 'workflow:supportTicketTriage', runId: runId(), ...args, args },
        async (tx) => {
          const row = await tx.query<{ id: number }>(
            `insert into escalations (idempotency_key, ticket_id, customer_id, reason, priority) values ($1, $2, $3, $4, $5) returning id`,
            [args.idempotencyKey, args.ticketId, args.customerId, args.reason, args.priority],
          );
          return `esc_${row.rows[0]!.id}`;
        },
      ));
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
