/**
 * The support domain's own tables: the "ticket system" the triage writes to, the escalation queue, the email outbox
 * (the relay delivers from it), ticket notes and refunds. Applied by `openStore({ schemas: [SUPPORT_SCHEMA] })`
 * after Governor's own schema; idempotent, since it runs on every open.
 */
export const SUPPORT_SCHEMA = `
create table if not exists decisions (
  workflow_id    text primary key,
  event_id       text not null,
  ticket_id      text not null,
  customer_id    text not null,
  category       text not null,
  urgency        text not null,
  outcome        text not null,
  decided_by     text not null,
  prompt_version text not null,
  model          text not null,
  decided_at     timestamptz not null default now()
);
create index if not exists decisions_customer on decisions (customer_id, decided_at desc);

create table if not exists escalations (
  id              bigserial primary key,
  idempotency_key text not null unique,
  ticket_id       text not null,
  customer_id     text not null,
  reason          text not null,
  priority        text not null,
  created_at      timestamptz not null default now()
);

-- The email sink: what the escalation email tool actually sent (a relay delivers from here).
create table if not exists outbox (
  id              bigserial primary key,
  message_id      text not null unique,
  idempotency_key text not null unique,
  kind            text not null,
  customer_id     text,
  recipient       text not null,
  subject         text not null,
  body            text not null,
  created_at      timestamptz not null default now()
);

create table if not exists ticket_notes (
  id              bigserial primary key,
  idempotency_key text not null unique,
  ticket_id       text not null,
  author          text not null,
  note            text not null,
  created_at      timestamptz not null default now()
);

create table if not exists refunds (
  id              bigserial primary key,
  idempotency_key text not null unique,
  customer_id     text not null,
  amount_cents    bigint not null,
  created_at      timestamptz not null default now()
);

`;
