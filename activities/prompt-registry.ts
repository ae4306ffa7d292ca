import {
  evalPassed,
  pinnedRecordOf,
  PromptLabel,
  PromptRecord,
  Rollout,
  splitPoint,
  type EvalMetric,
  type PinnedPrompt,
  type PinnedRun,
  type PromptRecordInput,
  type RolloutStage,
} from '../contracts/prompts.js';
import { formatIssues, issuesFrom } from '../contracts/issues.js';
import { isRegisteredCall, type ModelCallInput, type ModelCallRequest, type PromptRef } from '../contracts/model.js';
import { readControls } from './controls.js';
import { canonicalJson, sha256, type Store } from './store.js';

/** A registry request that cannot be honoured: the message names what and why; nothing was changed. */
export class PromptRegistryError extends Error {}

export interface PromptVersionRow {
  readonly name: string;
  readonly version: string;
  readonly hash: string;
  readonly record: PromptRecord;
  readonly createdAt: string;
  readonly createdBy: string;
  /** Labels pointing at this version. */
  readonly labels: string[];
}

export interface LabelChange {
  readonly seq: number;
  readonly name: string;
  readonly label: string;
  readonly from: string | null;
  readonly to: string;
  readonly actor: string;
  readonly reason: string;
  readonly at: string;
}

export function promptHash(record: PromptRecord): string {
  return sha256(canonicalJson(record));
}

function parseRecord(input: PromptRecordInput): PromptRecord {
  const parsed = PromptRecord.safeParse(input);
  if (!parsed.success) throw new PromptRegistryError(`invalid prompt ${JSON.stringify((input as { name?: unknown }).name ?? '?')}: ${formatIssues(issuesFrom(parsed.error))}`);
  return parsed.data;
}

/**
 * Registers a version (idempotent). The same name and version with different content is refused: versions are
 * immutable, so a changed prompt is a new version. The first version of a prompt also becomes its `production`
 * label, so a fresh store serves what the code ships.
 */
export async function registerPrompt(store: Store, input: PromptRecordInput, actor: string): Promise<{ hash: string; created: boolean }> {
  const record = parseRecord(input);
  const hash = promptHash(record);
  return store.db.transaction(async (tx) => {
    await tx.query('select pg_advisory_xact_lock(5, hashtext($1))', [record.name]); // namespace 5: prompts
    const found = await tx.query<{ hash: string }>('select hash from prompt_versions where name = $1 and version = $2', [record.name, record.version]);
    const existing = found.rows[0];
    if (existing) {
      if (existing.hash !== hash) {
        throw new PromptRegistryError(
          `${record.name}@${record.version} is registered with other content (hash ${existing.hash.slice(0, 12)}, this one ${hash.slice(0, 12)}): versions are immutable; give the change a new version`,
        );
      }
      return { hash, created: false };
    }
    await tx.query('insert into prompt_versions (name, version, hash, record, created_by) values ($1, $2, $3, $4, $5)', [record.name, record.version, hash, JSON.stringify(record), actor]);
    const labelled = await tx.query('select 1 from prompt_labels where name = $1 and label = $2', [record.name, 'production']);
    if (labelled.rows.length === 0) {
      await tx.query('insert into prompt_labels (name, label, version, updated_by) values ($1, $2, $3, $4)', [record.name, 'production', record.version, actor]);
      await tx.query('insert into prompt_label_changes (name, label, from_version, to_version, actor, reason) values ($1, $2, null, $3, $4, $5)', [
        record.name,
        'production',
        record.version,
        actor,
        'first version registered',
      ]);
    }
    return { hash, created: true };
  });
}

function toRow(r: { name: string; version: string; hash: string; record: PromptRecord; created_at: Date; created_by: string; labels: string[] | null }): PromptVersionRow {
  return { name: r.name, version: r.version, hash: r.hash, record: r.record, createdAt: new Date(r.created_at).toISOString(), createdBy: r.created_by, labels: r.labels ?? [] };
}

const VERSION_SELECT = `select v.name, v.version, v.hash, v.record, v.created_at, v.created_by,
  (select array_agg(l.label order by l.label) from prompt_labels l where l.name = v.name and l.version = v.version) as labels
  from prompt_versions v`;

/** Every version of every prompt (or of one), oldest first. */
export async function listPromptVersions(store: Store, name?: string): Promise<PromptVersionRow[]> {
  const rows = await store.db.query<Parameters<typeof toRow>[0]>(`${VERSION_SELECT} ${name ? 'where v.name = $1' : ''} order by v.name, v.created_at, v.version`, name ? [name] : []);
  return rows.rows.map(toRow);
}

/** One version; a clear error naming the known ones when it does not exist. */
export async function getPromptVersion(store: Store, name: string, version: string): Promise<PromptVersionRow> {
  const rows = await store.db.query<Parameters<typeof toRow>[0]>(`${VERSION_SELECT} where v.name = $1 and v.version = $2`, [name, version]);
  const row = rows.rows[0];
  if (!row) {
    const known = (await listPromptVersions(store, name)).map((v) => v.version);
    throw new PromptRegistryError(known.length ? `${name} has no version ${JSON.stringify(version)}; known: ${known.join(', ')}` : `no prompt named ${JSON.stringify(name)} is registered`);
  }
  return toRow(row);
}

/**
 * Reads what runs name by content hash: a version's system prompt and output schema, from the registry, checked
 * against the hash the run pinned. A registered version never changes, so what was read is kept (the most recent
 * `maxEntries` versions) and later reads cost no query. A version missing or different from the pin is a
 * `PromptRegistryError`: no retry makes it the prompt the run pinned.
 */
export function registeredPrompts(store: Store, maxEntries = 256) {
  // A Map keeps insertion order: the first key is the oldest entry, evicted when the map is full.
  const byHash = new Map<string, Pick<ModelCallRequest, 'system' | 'output'>>();
  const content = async ({ name, version, hash }: PromptRef): Promise<Pick<ModelCallRequest, 'system' | 'output'>> => {
    let found = byHash.get(hash);
    if (!found) {
      const row = await getPromptVersion(store, name, version);
      if (row.hash !== hash) throw new PromptRegistryError(`${name}@${version} in the registry has hash ${row.hash}, not the ${hash} this run pinned`);
      found = { system: row.record.system, output: row.record.output };
      if (byHash.size >= maxEntries) byHash.delete(byHash.keys().next().value!);
      byHash.set(hash, found);
    }
    return found;
  };
  return {
    content,
    /** The full request of a call that names its prompt by hash; a call that carries its prompt is returned as is. */
    async call(req: ModelCallInput): Promise<ModelCallRequest> {
      if (!isRegisteredCall(req)) return req;
      const { name, version } = req.prompt;
      return { ...req, ...(await content(req.prompt)), prompt: { name, version } };
    },
  };
}

/** Turns a call that names its prompt by content hash into the full request (see `registeredPrompts`). */
export function registeredCallResolver(store: Store, maxEntries = 256): (req: ModelCallInput) => Promise<ModelCallRequest> {
  return registeredPrompts(store, maxEntries).call;
}

/** The version a label points at, or a clear error. */
export async function labelledVersion(store: Store, name: string, label: string): Promise<string> {
  const row = (await store.db.query<{ version: string }>('select version from prompt_labels where name = $1 and label = $2', [name, label])).rows[0];
  if (!row) {
    const labels = (await store.db.query<{ label: string }>('select label from prompt_labels where name = $1 order by label', [name])).rows.map((r) => r.label);
    throw new PromptRegistryError(labels.length ? `${name} has no label ${JSON.stringify(label)}; labels: ${labels.join(', ')}` : `no prompt named ${JSON.stringify(name)} is registered`);
  }
  return row.version;
}

/**
 * What a run pins at its start: the version `label` points at now, by its settings and hash (the text and output
 * schema stay in the registry, read by hash at each call).
 */
export async function resolvePrompt(store: Store, name: string, label: string): Promise<PinnedPrompt> {
  const version = await labelledVersion(store, name, label);
  const row = await getPromptVersion(store, name, version);
  return { record: pinnedRecordOf(row.record), hash: row.hash, label };
}

/**
 * Points a label at a version, recording who, when, from, to and why. Refused when the version does not exist, or
 * when a workflow using the prompt has its rollout frozen (an SLO's breach action) — unless it is a rollback, which
 * a freeze exists to allow.
 */
export async function moveLabel(
  store: Store,
  change: { name: string; label: string; version: string; actor: string; reason: string; rollback?: boolean },
): Promise<{ from: string | null; to: string; changed: boolean }> {
  const label = PromptLabel.safeParse(change.label);
  if (!label.success) throw new PromptRegistryError(`label ${JSON.stringify(change.label)}: ${formatIssues(issuesFrom(label.error))}`);
  if (!change.actor.trim()) throw new PromptRegistryError('actor: say who is making the change');
  const target = await getPromptVersion(store, change.name, change.version);
  if (!change.rollback && change.label === 'production') await requirePassingEval(store, change.name, change.version);
  if (!change.rollback) {
    for (const workflow of target.record.usedBy) {
      if ((await readControls(store, workflow)).rolloutFrozen) {
        throw new PromptRegistryError(`the rollout of ${workflow} is frozen (an SLO's error budget is spent): ${change.name} cannot be promoted; roll back, or wait for the budget to recover`);
      }
    }
  }
  return store.db.transaction(async (tx) => {
    await tx.query('select pg_advisory_xact_lock(5, hashtext($1))', [change.name]);
    const current = (await tx.query<{ version: string }>('select version from prompt_labels where name = $1 and label = $2', [change.name, change.label])).rows[0]?.version ?? null;
    if (current === change.version) return { from: current, to: change.version, changed: false };
    await tx.query(
      `insert into prompt_labels (name, label, version, updated_by) values ($1, $2, $3, $4)
       on conflict (name, label) do update set version = excluded.version, updated_by = excluded.updated_by, updated_at = now()`,
      [change.name, change.label, change.version, change.actor],
    );
    await tx.query('insert into prompt_label_changes (name, label, from_version, to_version, actor, reason) values ($1, $2, $3, $4, $5, $6)', [
      change.name,
      change.label,
      current,
      change.version,
      change.actor,
      change.reason,
    ]);
    return { from: current, to: change.version, changed: true };
  });
}

/**
 * Rolls a label back: to `to` when given, else to the current version's declared `rollbackVersion`, else to the
 * version the label pointed at before its last move.
 */
export async function rollbackLabel(store: Store, change: { name: string; label: string; actor: string; reason: string; to?: string }) {
  const current = await labelledVersion(store, change.name, change.label);
  let to = change.to ?? (await getPromptVersion(store, change.name, current)).record.rollbackVersion;
  if (!to) {
    const last = (await labelChanges(store, change.name)).filter((c) => c.label === change.label && c.to === current).at(-1);
    to = last?.from ?? null;
  }
  if (!to) throw new PromptRegistryError(`${change.name}@${current} declares no rollbackVersion and ${change.label} has no earlier version: name one with --to`);
  return moveLabel(store, { name: change.name, label: change.label, version: to, actor: change.actor, reason: change.reason, rollback: true });
}

/** Every label move, oldest first. */
export async function labelChanges(store: Store, name?: string): Promise<LabelChange[]> {
  const rows = await store.db.query<{ seq: string; name: string; label: string; from_version: string | null; to_version: string; actor: string; reason: string; at: Date }>(
    `select seq, name, label, from_version, to_version, actor, reason, at from prompt_label_changes ${name ? 'where name = $1' : ''} order by seq`,
    name ? [name] : [],
  );
  return rows.rows.map((r) => ({ seq: Number(r.seq), name: r.name, label: r.label, from: r.from_version, to: r.to_version, actor: r.actor, reason: r.reason, at: new Date(r.at).toISOString() }));
}

/** The rollout in force for a workflow type, or null. */
export async function readRollout(store: Store, workflowType: string): Promise<Rollout | null> {
  const row = (
    await store.db.query<{ workflow_type: string; prompt_name: string; candidate_version: string; stage: RolloutStage; share: string }>(
      'select workflow_type, prompt_name, candidate_version, stage, share from workflow_rollouts where workflow_type = $1',
      [workflowType],
    )
  ).rows[0];
  return row ? { workflowType: row.workflow_type, promptName: row.prompt_name, candidateVersion: row.candidate_version, stage: row.stage, share: Number(row.share) } : null;
}

/**
 * Starts or changes a rollout, recorded like a label move. The candidate must be registered; a frozen rollout (an
 * SLO's breach action) refuses anything but ending it.
 */
export async function setRollout(store: Store, input: Rollout & { actor: string; reason: string }): Promise<Rollout> {
  const parsed = Rollout.safeParse({ workflowType: input.workflowType, promptName: input.promptName, candidateVersion: input.candidateVersion, stage: input.stage, share: input.share });
  if (!parsed.success) throw new PromptRegistryError(`rollout: ${formatIssues(issuesFrom(parsed.error))}`);
  const rollout = { ...parsed.data, share: parsed.data.stage === 'full' ? 1 : parsed.data.share };
  if (!input.actor.trim()) throw new PromptRegistryError('actor: say who is making the change');
  await getPromptVersion(store, rollout.promptName, rollout.candidateVersion);
  // Shadow and suggestion never apply the candidate's output; partial and full do, so they need a passing eval.
  if (rollout.stage === 'partial' || rollout.stage === 'full') await requirePassingEval(store, rollout.promptName, rollout.candidateVersion);
  if ((await readControls(store, rollout.workflowType)).rolloutFrozen) {
    throw new PromptRegistryError(`the rollout of ${rollout.workflowType} is frozen (an SLO's error budget is spent): end the rollout, or wait for the budget to recover`);
  }
  await store.db.transaction(async (tx) => {
    const before = (await tx.query<{ stage: string; candidate_version: string; share: string }>('select stage, candidate_version, share from workflow_rollouts where workflow_type = $1', [rollout.workflowType])).rows[0];
    await tx.query(
      `insert into workflow_rollouts (workflow_type, prompt_name, candidate_version, stage, share, updated_by) values ($1, $2, $3, $4, $5, $6)
       on conflict (workflow_type) do update set prompt_name = excluded.prompt_name, candidate_version = excluded.candidate_version,
         stage = excluded.stage, share = excluded.share, updated_by = excluded.updated_by, updated_at = now()`,
      [rollout.workflowType, rollout.promptName, rollout.candidateVersion, rollout.stage, rollout.share, input.actor],
    );
    await tx.query('insert into workflow_rollout_changes (workflow_type, from_state, to_state, actor, reason) values ($1, $2, $3, $4, $5)', [
      rollout.workflowType,
      before ? `${before.candidate_version} ${before.stage} ${Number(before.share)}` : null,
      `${rollout.candidateVersion} ${rollout.stage} ${rollout.share}`,
      input.actor,
      input.reason,
    ]);
  });
  return rollout;
}

/** Ends a workflow's rollout: every run goes back to the production label. Allowed while frozen. */
export async function endRollout(store: Store, change: { workflowType: string; actor: string; reason: string }): Promise<boolean> {
  return store.db.transaction(async (tx) => {
    const before = (await tx.query<{ stage: string; candidate_version: string; share: string }>('delete from workflow_rollouts where workflow_type = $1 returning stage, candidate_version, share', [change.workflowType])).rows[0];
    if (!before) return false;
    await tx.query('insert into workflow_rollout_changes (workflow_type, from_state, to_state, actor, reason) values ($1, $2, null, $3, $4)', [
      change.workflowType,
      `${before.candidate_version} ${before.stage} ${Number(before.share)}`,
      change.actor,
      change.reason,
    ]);
    return true;
  });
}

/**
 * What a run pins at its start: the production version, and — when its workflow has a rollout of this prompt — the
 * candidate and whether this event (by `splitPoint` of its id) falls in the candidate's share.
 */
export async function resolveRun(store: Store, req: { name: string; label: string; workflowType: string; eventId: string }): Promise<PinnedRun> {
  const production = await resolvePrompt(store, req.name, req.label);
  const rollout = await readRollout(store, req.workflowType);
  if (!rollout || rollout.promptName !== req.name) return { prompt: production, production: null, shadow: null, rollout: null };
  const row = await getPromptVersion(store, req.name, rollout.candidateVersion);
  const candidate: PinnedPrompt = { record: pinnedRecordOf(row.record), hash: row.hash, label: null };
  const inShare = rollout.stage === 'full' || splitPoint(req.eventId) < rollout.share;
  const pinned = { stage: rollout.stage, share: rollout.share, candidateVersion: rollout.candidateVersion, inShare };
  if (!inShare) return { prompt: production, production: null, shadow: null, rollout: pinned };
  if (rollout.stage === 'shadow') return { prompt: production, production: null, shadow: candidate, rollout: pinned };
  return { prompt: candidate, production, shadow: null, rollout: pinned };
}

export interface EvalResult {
  readonly seq: number;
  readonly name: string;
  readonly version: string;
  readonly hash: string;
  readonly suite: string;
  readonly cases: number;
  readonly metrics: EvalMetric[];
  readonly passed: boolean;
  readonly actor: string;
  readonly at: string;
}

/** Stores an eval's figures with the version (and content hash) they were measured on. */
export async function recordEvalResult(store: Store, result: { name: string; version: string; suite: string; cases: number; metrics: EvalMetric[]; actor: string }): Promise<EvalResult> {
  const row = await getPromptVersion(store, result.name, result.version);
  const passed = evalPassed(result.metrics);
  const inserted = await store.db.query<{ seq: string; at: Date }>(
    'insert into eval_results (prompt_name, version, hash, suite, cases, metrics, passed, actor) values ($1, $2, $3, $4, $5, $6, $7, $8) returning seq, at',
    [result.name, result.version, row.hash, result.suite, result.cases, JSON.stringify(result.metrics), passed, result.actor],
  );
  return { seq: Number(inserted.rows[0]!.seq), name: result.name, version: result.version, hash: row.hash, suite: result.suite, cases: result.cases, metrics: result.metrics, passed, actor: result.actor, at: new Date(inserted.rows[0]!.at).toISOString() };
}

/** The latest result of each suite run on a version, oldest suite name first. */
export async function latestEvals(store: Store, name: string, version: string): Promise<EvalResult[]> {
  const rows = await store.db.query<{ seq: string; prompt_name: string; version: string; hash: string; suite: string; cases: number; metrics: EvalMetric[]; passed: boolean; actor: string; at: Date }>(
    `select distinct on (suite) seq, prompt_name, version, hash, suite, cases, metrics, passed, actor, at from eval_results
     where prompt_name = $1 and version = $2 order by suite, seq desc`,
    [name, version],
  );
  return rows.rows.map((r) => ({ seq: Number(r.seq), name: r.prompt_name, version: r.version, hash: r.hash, suite: r.suite, cases: r.cases, metrics: r.metrics, passed: r.passed, actor: r.actor, at: new Date(r.at).toISOString() }));
}

/**
 * A version may decide runs (the production label, a partial or full rollout) only with a passing eval: the latest
 * result of every suite run on this very content (the hash) must have passed, and there must be one. A version whose
 * spec names no eval suite is not gated.
 */
export async function requirePassingEval(store: Store, name: string, version: string): Promise<void> {
  const row = await getPromptVersion(store, name, version);
  if (!row.record.evalSuite) return;
  const latest = (await latestEvals(store, name, version)).filter((r) => r.hash === row.hash);
  if (latest.length === 0) throw new PromptRegistryError(`${name}@${version} has no eval (${row.record.evalSuite}): run governor eval run --prompt ${name}@${version} first`);
  const failed = latest.filter((r) => !r.passed);
  if (failed.length > 0) {
    const missed = failed.map((r) => `${r.suite}: ${r.metrics.filter((m) => m.gated && m.value !== null && (m.direction === 'min' ? m.value < m.target : m.value > m.target)).map((m) => m.name).join(', ')}`);
    throw new PromptRegistryError(`${name}@${version} failed its last eval (${missed.join('; ')}): it cannot decide runs`);
  }
}

/**
 * What a failed eval takes away: a version in a rollout is demoted (the rollout ends), and production rolls back to
 * the version's declared `rollbackVersion` when it is the one in production. Each change is recorded with the actor.
 */
export async function demoteFailedVersion(store: Store, change: { name: string; version: string; actor: string; reason: string }): Promise<string[]> {
  const done: string[] = [];
  const rollouts = await store.db.query<{ workflow_type: string }>('select workflow_type from workflow_rollouts where prompt_name = $1 and candidate_version = $2', [change.name, change.version]);
  for (const r of rollouts.rows) {
    if (await endRollout(store, { workflowType: r.workflow_type, actor: change.actor, reason: change.reason })) done.push(`rollout of ${r.workflow_type} ended`);
  }
  const production = (await store.db.query<{ version: string }>("select version from prompt_labels where name = $1 and label = 'production'", [change.name])).rows[0]?.version;
  const rollbackTo = (await getPromptVersion(store, change.name, change.version)).record.rollbackVersion;
  if (production === change.version && rollbackTo) {
    await moveLabel(store, { name: change.name, label: 'production', version: rollbackTo, actor: change.actor, reason: change.reason, rollback: true });
    done.push(`production rolled back to ${rollbackTo}`);
  }
  return done;
}
