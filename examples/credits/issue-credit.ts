/**
 * A tool, in one file: its declaration (what the model may propose, what the policy judges) and its implementation
 * (what the worker runs). The effect and its evidence record commit in one transaction, so it happens exactly once
 * per idempotency key however often the activity is retried.
 */
import { z } from 'zod';
import { defineTool, implementTool, WRITE_PROFILE } from 'governor';

/** The table this tool writes: handed to the store (`openStore({ schemas: [CREDITS_SCHEMA] })`). */
export const CREDITS_SCHEMA = `
create table if not exists account_credits (
  id              bigserial primary key,
  idempotency_key text not null unique,
  customer_id     text not null,
  amount_cents    integer not null,
  reason          text not null,
  created_at      timestamptz not null default now()
);`;

export const issueCredit = defineTool({
  name: 'issue_credit',
  description: "Credits an amount to a customer's account balance.",
  kind: 'write',
  args: z.strictObject({
    customerId: z.string().regex(/^cus_\w+$/),
    amountCents: z.number().int().positive().max(50_000),
    reason: z.string().min(1).max(300),
  }),
  result: z.strictObject({ creditId: z.string(), amountCents: z.number().int() }),
  resources: (a) => [`customer:${a.customerId}`],
  risk: 'high',
  scope: 'credits:write',
  profile: WRITE_PROFILE,
});

export const issueCreditTool = implementTool(issueCredit, async ({ customerId, amountCents, reason }, { tx, idempotencyKey }) => {
  const row = await tx.query<{ id: string }>(
    'insert into account_credits (idempotency_key, customer_id, amount_cents, reason) values ($1, $2, $3, $4) returning id',
    [idempotencyKey, customerId, amountCents, reason],
  );
  const creditId = `cr_${row.rows[0]!.id}`;
  return { receiptId: creditId, result: { creditId, amountCents } };
});
