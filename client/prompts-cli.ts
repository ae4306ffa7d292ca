import { Option, type Command } from 'commander';
import { createTwoFilesPatch } from 'diff';
import type * as Controls from '../activities/controls.js';
import type * as Registry from '../activities/prompt-registry.js';
import { PromptRecord, RolloutStage } from '../contracts/prompts.js';
import type { Store } from '../activities/store.js';

/** Where the prompt commands find the registry: the store itself (a PostgreSQL server, or an embedded store no worker holds). */
interface StoreOptions {
  databaseUrl?: string;
  dataDir?: string;
  json?: boolean;
}

export interface PromptCommandHelpers {
  /** Refuses with a message and an exit code (2 bad input, 3 refused). */
  fail(message: string, exitCode: number): never;
}

async function withRegistry<T>(
  opts: StoreOptions,
  fail: PromptCommandHelpers['fail'],
  fn: (store: Store, registry: typeof Registry, controls: typeof Controls) => Promise<T>,
): Promise<T> {
  if (!opts.databaseUrl && !opts.dataDir) fail('the prompt registry lives in the store: set DATABASE_URL (or --database-url), or --data-dir for an embedded store no worker has open', 2);
  // Loaded only here: the rest of the CLI must not pay for a database driver.
  const { openStore } = await import('../activities/store.js');
  const registry = await import('../activities/prompt-registry.js');
  const controls = await import('../activities/controls.js');
  const store = await openStore({ databaseUrl: opts.databaseUrl, dataDir: opts.dataDir, migrate: false });
  try {
    return await fn(store, registry, controls);
  } catch (err) {
    if (err instanceof registry.PromptRegistryError) fail(err.message, 3);
    if (/relation "(prompt|workflow)_\w+" does not exist/.test((err as Error).message)) fail(`${store.db.describe} has no prompt registry yet: start a worker on it first`, 1);
    throw err;
  } finally {
    await store.close();
  }
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n');
}

/** `name`, `name@version` or `name:label` (default `name:production`). */
function parseRef(ref: string): { name: string; version?: string; label?: string } {
  const at = ref.indexOf('@');
  if (at > 0) return { name: ref.slice(0, at), version: ref.slice(at + 1) };
  const colon = ref.indexOf(':');
  if (colon > 0) return { name: ref.slice(0, colon), label: ref.slice(colon + 1) };
  return { name: ref, label: 'production' };
}

/** Where the registry commands find the store. */
function storeOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--database-url <url>', 'the store (PostgreSQL)').env('DATABASE_URL'))
    .addOption(new Option('--data-dir <dir>', 'an embedded (PGlite) store; only while no worker has it open'))
    .option('--json', 'print machine-readable JSON');
}

/** Who makes a change and why: both recorded with it. */
function who(cmd: Command): Command {
  return cmd.addOption(new Option('--actor <who>', 'who makes the change (recorded)').env('GOVERNOR_ACTOR').makeOptionMandatory()).requiredOption('--reason <why>', 'why (recorded)');
}

/**
 * `governor prompts list|show|diff|promote|rollback|history`: the prompt registry from the command line. Every
 * change names who made it and why, and is recorded; a promotion is refused while a workflow using the prompt has its
 * rollout frozen.
 */
export function addPromptCommands(program: Command, helpers: PromptCommandHelpers): void {
  const prompts = program.command('prompts').description('The prompt registry: versions (immutable, content-hashed) and the labels that point at them.');

  storeOptions(prompts.command('list').description('Every version, its hash and the labels pointing at it.').argument('[name]')).action(
    async (name: string | undefined, opts: StoreOptions) => {
      const rows = await withRegistry(opts, helpers.fail, (store, r) => r.listPromptVersions(store, name));
      if (opts.json) return void process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
      if (rows.length === 0) return void process.stdout.write('no prompts are registered\n');
      process.stdout.write(
        `${table([
          ['PROMPT', 'VERSION', 'HASH', 'LABELS', 'OWNER', 'REGISTERED'],
          ...rows.map((v) => [v.name, v.version, v.hash.slice(0, 12), v.labels.join(', ') || '-', v.record.owner, `${v.createdAt} by ${v.createdBy}`]),
        ])}\n`,
      );
    },
  );

  storeOptions(prompts.command('show').description('One version in full: name@version, or name:label (default name:production).').argument('<ref>')).action(
    async (ref: string, opts: StoreOptions) => {
      const { name, version, label } = parseRef(ref);
      const row = await withRegistry(opts, helpers.fail, async (store, r) => r.getPromptVersion(store, name, version ?? (await r.labelledVersion(store, name, label!))));
      if (opts.json) return void process.stdout.write(`${JSON.stringify(row, null, 2)}\n`);
      const rec = row.record;
      process.stdout.write(
        [
          `prompt       ${rec.name}@${rec.version}  (hash ${row.hash})`,
          `labels       ${row.labels.join(', ') || '-'}`,
          `owner        ${rec.owner}; registered ${row.createdAt} by ${row.createdBy}`,
          `models       ${Object.entries(rec.models).map(([p, m]) => `${p}: ${m}`).join(', ')}; temperature ${rec.temperature}; max output ${rec.maxOutputTokens} tokens`,
          `output       ${rec.output.name}: ${rec.output.description}`,
          `cache        reuse ${rec.cache.reuse}, last resort ${rec.cache.lastResort}`,
          `eval suite   ${rec.evalSuite ?? '-'}; rollback to ${rec.rollbackVersion ?? '-'}; used by ${rec.usedBy.join(', ') || '-'}`,
          'system',
          ...rec.system.split('\n').map((l) => `  ${l}`),
        ].join('\n') + '\n',
      );
    },
  );

  storeOptions(prompts.command('diff').description('What changed between two versions of a prompt, as a unified diff.').argument('<name>').argument('<from>').argument('<to>')).action(
    async (name: string, from: string, to: string, opts: StoreOptions) => {
      const [a, b] = await withRegistry(opts, helpers.fail, (store, r) => Promise.all([r.getPromptVersion(store, name, from), r.getPromptVersion(store, name, to)]));
      // The system text line by line, then every other field as pretty JSON in the spec's order (the database keeps
      // its own key order): a reviewer reads wording changes as text.
      const render = (rec: typeof a.record) => `${rec.system}\n\n${JSON.stringify({ ...PromptRecord.parse(rec), system: undefined }, null, 2)}\n`;
      if (opts.json) return void process.stdout.write(`${JSON.stringify({ from: a, to: b }, null, 2)}\n`);
      process.stdout.write(a.hash === b.hash ? 'the two versions have the same content\n' : createTwoFilesPatch(`${name}@${from}`, `${name}@${to}`, render(a.record), render(b.record)));
    },
  );

  who(storeOptions(prompts.command('promote').description('Point a label (default production) at a version: the next runs use it; runs in flight keep theirs.').argument('<name>').argument('<version>')))
    .option('--label <label>', 'the label to move', 'production')
    .action(async (name: string, version: string, opts: StoreOptions & { label: string; actor: string; reason: string }) => {
      const moved = await withRegistry(opts, helpers.fail, (store, r) => r.moveLabel(store, { name, label: opts.label, version, actor: opts.actor, reason: opts.reason }));
      if (opts.json) return void process.stdout.write(`${JSON.stringify(moved, null, 2)}\n`);
      process.stdout.write(moved.changed ? `${name}:${opts.label} ${moved.from ?? '(none)'} -> ${moved.to}\n` : `${name}:${opts.label} already points at ${moved.to}\n`);
    });

  who(storeOptions(prompts.command('rollback').description("Move a label back: to --to, else the version's rollbackVersion, else the label's previous version.").argument('<name>')))
    .option('--label <label>', 'the label to move', 'production')
    .option('--to <version>', 'the version to go back to')
    .action(async (name: string, opts: StoreOptions & { label: string; to?: string; actor: string; reason: string }) => {
      const moved = await withRegistry(opts, helpers.fail, (store, r) => r.rollbackLabel(store, { name, label: opts.label, to: opts.to, actor: opts.actor, reason: opts.reason }));
      if (opts.json) return void process.stdout.write(`${JSON.stringify(moved, null, 2)}\n`);
      process.stdout.write(moved.changed ? `${name}:${opts.label} rolled back ${moved.from ?? '(none)'} -> ${moved.to}\n` : `${name}:${opts.label} already points at ${moved.to}\n`);
    });

  storeOptions(prompts.command('history').description('Every label move: who, when, from, to, why.').argument('[name]')).action(async (name: string | undefined, opts: StoreOptions) => {
    const changes = await withRegistry(opts, helpers.fail, (store, r) => r.labelChanges(store, name));
    if (opts.json) return void process.stdout.write(`${JSON.stringify(changes, null, 2)}\n`);
    process.stdout.write(
      `${table([['AT', 'PROMPT', 'LABEL', 'FROM', 'TO', 'BY', 'WHY'], ...changes.map((c) => [c.at, c.name, c.label, c.from ?? '-', c.to, c.actor, c.reason])])}\n`,
    );
  });
}

/**
 * `governor rollout show|set|end` and `governor kill-switch`: how a candidate prompt reaches traffic, and the switch
 * that sends every new run of a workflow to a person. Both are store state read by each run once, at its start.
 */
export function addRolloutCommands(program: Command, helpers: PromptCommandHelpers): void {
  const rollout = program.command('rollout').description('Staged rollout of a candidate prompt version per workflow: shadow, suggestion, partial, full.');

  storeOptions(rollout.command('show').description("A workflow's rollout and its controls.").argument('<workflow>')).action(async (workflow: string, opts: StoreOptions) => {
    const [current, controls] = await withRegistry(opts, helpers.fail, (store, r, c) => Promise.all([r.readRollout(store, workflow), c.readControls(store, workflow)]));
    if (opts.json) return void process.stdout.write(`${JSON.stringify({ rollout: current, controls }, null, 2)}\n`);
    process.stdout.write(
      `${current ? `rollout      ${current.promptName}@${current.candidateVersion} in ${current.stage}, share ${(current.share * 100).toFixed(0)}%` : 'rollout      none: every run uses the production label'}\n` +
        `controls     ${[controls.reviewOnly && 'review_only', controls.fallbackChain && 'fallback_chain', controls.rolloutFrozen && 'rollout_frozen'].filter(Boolean).join(', ') || 'none'}\n`,
    );
  });

  who(storeOptions(rollout.command('set').description('Start or change a rollout: the next runs fall into it by a hash of their event id.').argument('<workflow>')))
    .requiredOption('--prompt <name@version>', 'the candidate version')
    .addOption(new Option('--stage <stage>', 'shadow, suggestion, partial or full').choices(RolloutStage.options).makeOptionMandatory())
    .option('--share <0..1>', 'the share of runs the candidate takes (full takes all)', '0.1')
    .action(async (workflow: string, opts: StoreOptions & { prompt: string; stage: RolloutStage; share: string; actor: string; reason: string }) => {
      const at = opts.prompt.indexOf('@');
      if (at <= 0) helpers.fail(`--prompt: ${JSON.stringify(opts.prompt)} is not name@version`, 2);
      const share = Number(opts.share);
      if (!Number.isFinite(share)) helpers.fail(`--share: ${JSON.stringify(opts.share)} is not a number from 0 to 1`, 2);
      const set = await withRegistry(opts, helpers.fail, (store, r) =>
        r.setRollout(store, { workflowType: workflow, promptName: opts.prompt.slice(0, at), candidateVersion: opts.prompt.slice(at + 1), stage: opts.stage, share, actor: opts.actor, reason: opts.reason }),
      );
      if (opts.json) return void process.stdout.write(`${JSON.stringify(set, null, 2)}\n`);
      process.stdout.write(`${workflow}: ${set.promptName}@${set.candidateVersion} in ${set.stage}, share ${(set.share * 100).toFixed(0)}%\n`);
    });

  who(storeOptions(rollout.command('end').description('End a rollout: every run goes back to the production label.').argument('<workflow>'))).action(
    async (workflow: string, opts: StoreOptions & { actor: string; reason: string }) => {
      const ended = await withRegistry(opts, helpers.fail, (store, r) => r.endRollout(store, { workflowType: workflow, actor: opts.actor, reason: opts.reason }));
      process.stdout.write(ended ? `${workflow}: rollout ended\n` : `${workflow}: no rollout to end\n`);
    },
  );

  who(
    storeOptions(
      program
        .command('kill-switch')
        .description('on: every new run of the workflow goes to a person before anything is applied, from the next run on; off: back to normal.')
        .argument('<workflow>')
        .argument('<on|off>'),
    ),
  ).action(async (workflow: string, state: string, opts: StoreOptions & { actor: string; reason: string }) => {
    if (state !== 'on' && state !== 'off') helpers.fail(`${JSON.stringify(state)}: say on or off`, 2);
    const changed = await withRegistry(opts, helpers.fail, (store, _r, c) => c.setControl(store, { workflowType: workflow, control: 'review_only', value: state === 'on', actor: opts.actor, reason: opts.reason }));
    process.stdout.write(`${workflow}: kill switch ${state}${changed ? '' : ' (it already was)'}; runs started from now on ${state === 'on' ? 'wait for a reviewer' : 'run as their policy says'}\n`);
  });
}
