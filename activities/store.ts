import { createHash } from 'node:crypto';
import { openPglite, openPostgres, type Sql } from './sql.js';

/**
 * Governor's SQL store: the append-only evidence log, resource fences, artifacts and the model response cache,
 * plus whatever tables the tools of a deployment need (`schemas`). Embedded PGlite (in-process PostgreSQL) by default; the same SQL
 * runs on a PostgreSQL server when `DATABASE_URL` is set.
 */
export interface Store {
  readonly db: Sql;
  close(): Promise<void>;
}

const SCHEMA = `
create table if not exists evidence (
  seq             bigserial primary key,
  evidence_id     text not null unique,
  workflow_id     text not null,
  run_id          text not null,
  step_id         text not null,
  actor           text not null,
  tool            text not null,
  args_hash       text not null,
  idempotency_key text not null unique,
  status          text not null,
  receipt_id      text,
  started_at      timestamptz not null,
  finished_at     timestamptz not null
);
-- Columns added with governed actions; rows written before them have no hash and are reported as unchained.
alter table evidence add column if not exists action         text not null default '';
alter table evidence add column if not exists resources      jsonb not null default '[]';
alter table evidence add column if not exists result_hash    text;
alter table evidence add column if not exists result         jsonb;
alter table evidence add column if not exists permission     text not null default 'granted';
alter table evidence add column if not exists policy_version text not null default '';
alter table evidence add column if not exists policy_rule    text not null default '';
alter table evidence add column if not exists approver       text;
alter table evidence add column if not exists detail         text;
alter table evidence add column if not exists leases         jsonb not null default '{}';
alter table evidence add column if not exists prev_hash      text;
alter table evidence add column if not exists hash           text;
alter table evidence drop constraint if exists evidence_status_check;
alter table evidence drop constraint if exists evidence_status_known;
alter table evidence add constraint evidence_status_known check (status in ('success', 'failed', 'denied'));
create index if not exists evidence_workflow on evidence (workflow_id, seq);

-- Append-only: the project's code has no update or delete path, and the database refuses one from anywhere else.
create or replace function evidence_append_only() returns trigger language plpgsql as $fn$
begin
  raise exception 'evidence is append-only: % refused', tg_op using errcode = 'insufficient_privilege';
end
$fn$;
drop trigger if exists evidence_no_change on evidence;
create trigger evidence_no_change before update or delete on evidence for each row execute function evidence_append_only();
drop trigger if exists evidence_no_truncate on evidence;
create trigger evidence_no_truncate before truncate on evidence for each statement execute function evidence_append_only();

-- Fencing tokens: a write presents its lease's token; an older token than the last one seen is refused.
create table if not exists resource_fences (
  resource   text primary key,
  token      bigint not null,
  updated_at timestamptz not null default now()
);

create table if not exists artifacts (
  artifact_id  text primary key,
  kind         text not null,
  scope        text not null,
  content      jsonb not null,
  content_hash text not null,
  created_at   timestamptz not null default now()
);

-- Artifacts are evidence too (a handoff points at one): written once, never changed.
drop trigger if exists artifacts_no_change on artifacts;
create trigger artifacts_no_change before update or delete on artifacts for each row execute function evidence_append_only();

create table if not exists model_cache (
  key            text primary key,
  prompt_name    text not null,
  prompt_version text not null,
  model          text not null,
  value          jsonb not null,
  created_at     timestamptz not null default now()
);
-- Operational controls per workflow type (SLO breach actions) and every change to them (activities/controls.ts).
create table if not exists workflow_controls (
  workflow_type  text primary key,
  review_only    boolean not null default false,
  fallback_chain boolean not null default false,
  rollout_frozen boolean not null default false
);
create table if not exists workflow_control_changes (
  seq           bigserial primary key,
  workflow_type text not null,
  control       text not null,
  from_value    boolean not null,
  to_value      boolean not null,
  actor         text not null,
  reason        text not null,
  at            timestamptz not null default now()
);
create table if not exists slo_breaches (
  slo        text primary key,
  breached   boolean not null,
  changed_at timestamptz not null default now()
);

-- The prompt registry (activities/prompt-registry.ts): versions are immutable, labels point at them, every move is
-- recorded.
create table if not exists prompt_versions (
  name       text not null,
  version    text not null,
  hash       text not null,
  record     jsonb not null,
  created_at timestamptz not null default now(),
  created_by text not null,
  primary key (name, version)
);
create or replace function prompt_versions_immutable() returns trigger language plpgsql as $fn$
begin
  raise exception 'prompt versions are immutable: % refused', tg_op using errcode = 'insufficient_privilege';
end
$fn$;
drop trigger if exists prompt_versions_no_change on prompt_versions;
create trigger prompt_versions_no_change before update or delete on prompt_versions for each row execute function prompt_versions_immutable();
create table if not exists prompt_labels (
  name       text not null,
  label      text not null,
  version    text not null,
  updated_at timestamptz not null default now(),
  updated_by text not null,
  primary key (name, label),
  foreign key (name, version) references prompt_versions (name, version)
);
create table if not exists workflow_rollouts (
  workflow_type     text primary key,
  prompt_name       text not null,
  candidate_version text not null,
  stage             text not null check (stage in ('shadow', 'suggestion', 'partial', 'full')),
  share             numeric not null check (share >= 0 and share <= 1),
  updated_at        timestamptz not null default now(),
  updated_by        text not null,
  foreign key (prompt_name, candidate_version) references prompt_versions (name, version)
);
create table if not exists workflow_rollout_changes (
  seq           bigserial primary key,
  workflow_type text not null,
  from_state    text,
  to_state      text,
  actor         text not null,
  reason        text not null,
  at            timestamptz not null default now()
);
create table if not exists eval_results (
  seq          bigserial primary key,
  prompt_name  text not null,
  version      text not null,
  hash         text not null,
  suite        text not null,
  cases        integer not null,
  metrics      jsonb not null,
  passed       boolean not null,
  actor        text not null,
  at           timestamptz not null default now()
);
create index if not exists eval_results_version on eval_results (prompt_name, version, suite, seq);
create table if not exists prompt_label_changes (
  seq          bigserial primary key,
  name         text not null,
  label        text not null,
  from_version text,
  to_version   text not null,
  actor        text not null,
  reason       text not null,
  at           timestamptz not null default now()
);

-- Review sampling (activities/reviews.ts): auto-applied runs drawn for grading, and every person's verdict on a run in
-- the structured correction form (what the model said, what the person set instead, why, who).
create table if not exists grading_queue (
  workflow_id    text primary key,
  run_id         text not null,
  workflow_type  text not null,
  input          jsonb,
  output         jsonb not null,
  prompt_version text not null,
  draw           double precision not null,
  rate           double precision not null,
  sampled_at     timestamptz not null default now(),
  graded_at      timestamptz,
  graded_by      text
);
create index if not exists grading_queue_open on grading_queue (workflow_type, sampled_at) where graded_at is null;
create table if not exists review_records (
  id             bigserial primary key,
  kind           text not null check (kind in ('correction', 'grade')),
  workflow_id    text not null,
  run_id         text not null,
  workflow_type  text not null,
  input          jsonb,
  original       jsonb,
  corrected      jsonb,
  verdict        text not null,
  reason         text,
  reviewer       text not null,
  prompt_version text not null,
  created_at     timestamptz not null default now(),
  unique (workflow_id, kind),
  check ((kind = 'correction' and verdict in ('approved', 'corrected', 'rejected')) or (kind = 'grade' and verdict in ('correct', 'incorrect')))
);
create index if not exists review_records_created on review_records (created_at, id);

-- Claim checks (activities/claim-check.ts): payloads too large for history, stored once under their SHA-256.
create table if not exists claim_checks (
  hash       text primary key,
  body       bytea not null,
  bytes      integer not null,
  created_at timestamptz not null default now()
);

-- Spend limits (activities/spend.ts): model spend per UTC day and provider (the daily ceiling), and the shared token
-- buckets of the per-provider rate limits.
create table if not exists model_spend (
  day      date not null,
  provider text not null,
  usd      double precision not null default 0,
  tokens   bigint not null default 0,
  calls    integer not null default 0,
  primary key (day, provider)
);
create table if not exists rate_buckets (
  name       text primary key,
  tokens     double precision not null,
  updated_at timestamptz not null
);
`;

export interface StoreOptions {
  /** Bring the schema up to date on open (default true); read-only users (`governor verify`) pass false. */
  readonly migrate?: boolean;
  /** PostgreSQL server URL; when set, `dataDir` is ignored. */
  readonly databaseUrl?: string;
  /** PGlite data directory; without it (and without a URL) the database lives in memory (tests). */
  readonly dataDir?: string;
  /**
   * The tables a deployment's own tools write (their "systems of record"), as SQL run after Governor's schema on
   * every open, under the migration lock: write it idempotently (`create table if not exists`, `add column if not
   * exists`).
   */
  readonly schemas?: readonly string[];
}

/** Bumped with every change to `SCHEMA`; a store at this version is not touched at start. */
export const SCHEMA_VERSION = 9;

/**
 * Brings a database's schema up to date. Runs the schema only when the store is behind, inside one transaction
 * holding an advisory lock, so several workers starting together neither race each other nor take table locks on a
 * live evidence log at every start.
 */
export async function migrate(db: Sql, schemas: readonly string[] = []): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query('select pg_advisory_xact_lock(3, 0)'); // namespace 3: schema migration
    await tx.exec('create table if not exists governor_schema (version integer not null)');
    const current = await tx.query<{ version: number }>('select max(version) as version from governor_schema');
    if ((current.rows[0]?.version ?? 0) < SCHEMA_VERSION) {
      await tx.exec(SCHEMA);
      await tx.query('delete from governor_schema');
      await tx.query('insert into governor_schema (version) values ($1)', [SCHEMA_VERSION]);
    }
    for (const schema of schemas) await tx.exec(schema);
  });
}

/** Opens the store and brings its schema up to date (idempotent). */
export async function openStore(options: StoreOptions = {}): Promise<Store> {
  const db = options.databaseUrl ? await openPostgres(options.databaseUrl) : await openPglite(options.dataDir);
  if (options.migrate !== false) await migrate(db, options.schemas);
  return { db, close: () => db.close() };
}

/** Canonical JSON (sorted keys) so the same arguments always hash the same. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

