import type { SqlQueryable } from 'governor/worker';
import type { SupportTicketCreated } from './contracts/ticket.js';
import type { TicketContext } from './contracts/triage.js';

/**
 * The support domain's own activity: what the classifier sees beyond the event, the customer's recent triage
 * history. A plain read of the domain's tables (no effect, so no evidence record); registered on the worker beside
 * Governor's activities.
 */
export function createSupportActivities(db: SqlQueryable) {
  return {
    async loadTicketContext(event: SupportTicketCreated): Promise<TicketContext> {
      const history = await db.query<{ ticket_id: string; category: string; urgency: string; decided_at: Date }>(
        `select ticket_id, category, urgency, decided_at from decisions
          where customer_id = $1 and ticket_id <> $2 order by decided_at desc limit 5`,
        [event.customer.id, event.ticket.id],
      );
      return {
        ticket: event.ticket,
        customer: event.customer,
        history: history.rows.map((r) => ({ ticketId: r.ticket_id, category: r.category, urgency: r.urgency, decidedAt: new Date(r.decided_at).toISOString() })),
      };
    },
  };
}

export type SupportActivities = ReturnType<typeof createSupportActivities>;
