import { Option, type Command } from 'commander';
import { evalPassed, type ModelRef } from 'governor';
import { EXIT, reviewSource, type CliHelpers } from 'governor/client';
import type * as Worker from 'governor/worker';
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { REGRESSION_FILE, SUITES, type EvalCase } from './suites.js';
import { formatSuite, runEvalSuites } from './run.js';
import { correctionsAsCases, rerunWithVersion, selectAffectedRuns } from './reruns.js';

/** The store (PostgreSQL, or an embedded directory no worker holds), opened only by these commands. */
async function withStore<T>(opts: { databaseUrl?: string; dataDir?: string }, h: CliHelpers, fn: (store: Worker.Store, w: typeof Worker) => Promise<T>): Promise<T> {
  if (!opts.databaseUrl && !opts.dataDir) h.fail('evals read the prompt registry and keep their results in the store: set DATABASE_URL (or --database-url), or --data-dir', EXIT.badInput);
  const w = await import('governor/worker');
  const store = await w.openStore({ databaseUrl: opts.databaseUrl, dataDir: opts.dataDir, migrate: false });
  try {
    return await fn(store, w);
  } catch (err) {
    if (err instanceof w.PromptRegistryError) h.fail(err.message, EXIT.refused);
    throw err;
  } finally {
    await store.close();
  }
}

/**
 * `governor eval run`: a prompt version through the real governed step over the suites, a per-metric table against
 * targets, the results stored with the version; exit 1 when a gated metric misses (and a version in a rollout or in
 * production is demoted). `governor eval compare`: two versions' latest results side by side.
 */
export function addEvalCommands(program: Command, h: CliHelpers): void {
  const evalCmd = program.command('eval').description("Evaluate prompt versions on the classifier's suites: golden, edge, negative, regression, adversarial.");
  const storeOptions = (cmd: Command) =>
    cmd.addOption(new Option('--database-url <url>', 'the store (PostgreSQL)').env('DATABASE_URL')).addOption(new Option('--data-dir <dir>', 'an embedded (PGlite) store no worker has open'));

  storeOptions(evalCmd.command('run').description('Run a version over the suites on the workers (they call the real model; offline, the model double).'))
    .requiredOption('--prompt <name@version>', 'the version (name:label works too, default label production)')
    .option('--suite <names>', `comma-separated, of ${SUITES.map((s) => s.name).join(', ')} (default all)`)
    .option('--limit <n>', 'at most n cases per suite', (v) => Number(v))
    .option('--concurrency <n>', 'cases in flight at once', (v) => Number(v), 8)
    .option('--provider <name>', 'model provider', 'anthropic')
    .option('--model <name>', "model (default the version's model for the provider)")
    .addOption(new Option('--actor <who>', 'who ran it (recorded)').env('GOVERNOR_ACTOR').default('cli'))
    .option('--json', 'print machine-readable JSON')
    .action(async (opts: { databaseUrl?: string; dataDir?: string; prompt: string; suite?: string; limit?: number; concurrency: number; provider: string; model?: string; actor: string; json?: boolean }) => {
      const names = opts.suite ? opts.suite.split(',').map((s) => s.trim()) : SUITES.map((s) => s.name);
      const unknown = names.filter((n) => !SUITES.some((s) => s.name === n));
      if (unknown.length) h.fail(`--suite: unknown ${unknown.join(', ')}; known: ${SUITES.map((s) => s.name).join(', ')}`, EXIT.badInput);
      const suites = SUITES.filter((s) => names.includes(s.name));
      const failed = await withStore(opts, h, async (store, w) => {
        const [name, ref] = opts.prompt.includes('@') ? opts.prompt.split('@') : [opts.prompt.split(':')[0]!, undefined];
        const version = ref ?? (await w.labelledVersion(store, name!, opts.prompt.split(':')[1] ?? 'production'));
        const row = await w.getPromptVersion(store, name!, version);
        const model = opts.model ?? row.record.models[opts.provider];
        if (!model) h.fail(`${name}@${version} names no model for ${opts.provider}: pass --model`, EXIT.badInput);
        const chain: ModelRef[] = [{ provider: opts.provider, model }];
        const scores = await h.withClient((client) =>
          runEvalSuites({ client: client.client, taskQueue: client.taskQueue, prompt: row.record, suites, chain, concurrency: opts.concurrency, limit: opts.limit, onCase: (d, t) => process.stderr.write(`\r${d}/${t} cases`) }),
        );
        process.stderr.write('\n');
        let anyFailed = false;
        for (const score of scores) {
          await w.recordEvalResult(store, { name: name!, version, suite: score.suite, cases: score.cases, metrics: score.metrics, actor: opts.actor });
          if (!evalPassed(score.metrics)) anyFailed = true;
        }
        const demoted = anyFailed ? await w.demoteFailedVersion(store, { name: name!, version, actor: `eval:${opts.actor}`, reason: `failed its eval (${scores.filter((s) => !evalPassed(s.metrics)).map((s) => s.suite).join(', ')})` }) : [];
        if (opts.json) process.stdout.write(`${JSON.stringify({ prompt: `${name}@${version}`, hash: row.hash, scores, demoted }, null, 2)}\n`);
        else {
          process.stdout.write(`${scores.map((s) => formatSuite(`${name}@${version}`, s)).join('\n\n')}\n\n`);
          process.stdout.write(`${anyFailed ? 'FAILED: a gated metric missed its target' : 'passed: every gated metric met its target'}${demoted.length ? `; ${demoted.join('; ')}` : ''}\n`);
        }
        return anyFailed;
      });
      if (failed) h.fail(`${opts.prompt} failed its eval: a gated metric missed its target`, EXIT.failure);
    });

  storeOptions(
    evalCmd
      .command('export-corrections')
      .description('Add every triage run a person corrected (a reviewer\'s correction, an incorrect grade) to the regression suite, as an eval case (run, original, corrected, reason, reviewer).'),
  )
    .addOption(new Option('--metrics-url <url>', 'otherwise ask the worker that owns the store').env('GOVERNOR_METRICS_URL').default('http://127.0.0.1:9464'))
    .option('--since <time>', 'corrections recorded at or after (ISO-8601)')
    .option('--out <file>', 'the suite file to merge into', fileURLToPath(REGRESSION_FILE))
    .option('--json', 'print the cases as JSON instead of writing them')
    .action(async (opts: { databaseUrl?: string; dataDir?: string; metricsUrl: string; since?: string; out: string; json?: boolean }) => {
      const since = opts.since ? new Date(opts.since) : undefined;
      if (since && Number.isNaN(since.getTime())) h.fail(`--since: ${JSON.stringify(opts.since)} is not a date (ISO-8601)`, EXIT.badInput);
      const source = await reviewSource(opts).catch((err: Error) => h.fail(err.message, EXIT.failure));
      let cases: EvalCase[];
      try {
        cases = await correctionsAsCases(source, { since });
      } catch (err) {
        h.fail((err as Error).message, EXIT.failure);
      } finally {
        await source.close();
      }
      if (opts.json) return void process.stdout.write(`${JSON.stringify(cases, null, 2)}\n`);
      const file = JSON.parse(await readFile(opts.out, 'utf8').catch(() => '{"cases":[]}')) as { cases: EvalCase[] };
      const known = new Set(file.cases.map((c) => c.id));
      const fresh = cases.filter((c) => !known.has(c.id));
      await writeFile(opts.out, `${JSON.stringify({ ...file, cases: [...file.cases, ...fresh] }, null, 2)}\n`);
      process.stdout.write(`${cases.length} correction(s) found, ${fresh.length} new, written to ${opts.out}\n`);
    });

  storeOptions(evalCmd.command('compare').description("Two versions' latest eval results, side by side per suite and metric.").argument('<name>').argument('<a>').argument('<b>'))
    .option('--json', 'print machine-readable JSON')
    .action(async (name: string, a: string, b: string, opts: { databaseUrl?: string; dataDir?: string; json?: boolean }) => {
      const [ra, rb] = await withStore(opts, h, (store, w) => Promise.all([w.latestEvals(store, name, a), w.latestEvals(store, name, b)]));
      if (opts.json) return void process.stdout.write(`${JSON.stringify({ [a]: ra, [b]: rb }, null, 2)}\n`);
      const rows = [['SUITE', 'METRIC', a, b, 'TARGET']];
      for (const suite of [...new Set([...ra, ...rb].map((r) => r.suite))].sort()) {
        const ma = ra.find((r) => r.suite === suite)?.metrics ?? [];
        const mb = rb.find((r) => r.suite === suite)?.metrics ?? [];
        for (const metric of [...new Set([...ma, ...mb].map((m) => m.name))]) {
          const x = ma.find((m) => m.name === metric);
          const y = mb.find((m) => m.name === metric);
          const fmt = (m: typeof x) => (m?.value === null || m === undefined ? '-' : m.unit === 'ratio' ? `${(m.value * 100).toFixed(1)}%` : m.unit === 'ms' ? `${Math.round(m.value)} ms` : `$${m.value.toFixed(5)}`);
          rows.push([suite, metric, fmt(x), fmt(y), (x ?? y)!.direction === 'min' ? `>= ${fmt({ ...(x ?? y)!, value: (x ?? y)!.target })}` : `<= ${fmt({ ...(x ?? y)!, value: (x ?? y)!.target })}`]);
        }
      }
      if (rows.length === 1) h.fail(`no eval results for ${name}@${a} or ${name}@${b}`, EXIT.refused);
      const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
      process.stdout.write(`${rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n')}\n`);
    });
}

/**
 * `governor rerun-affected`: the triage runs a bad prompt version decided (by version, time window, outcome),
 * re-run with the fixed version as new runs linked to the originals, and the differences printed. Nothing is applied.
 */
export function addRerunCommand(program: Command, h: CliHelpers): void {
  const date = (flag: string) => (v: string) => {
    const d = new Date(v);
    if (Number.isNaN(d.getTime())) h.fail(`${flag}: ${JSON.stringify(v)} is not a date (ISO-8601, e.g. 2026-11-22T09:00:00Z)`, EXIT.badInput);
    return d;
  };
  program
    .command('rerun-affected')
    .description('Re-run the triage runs a prompt version decided with a fixed version, linked to the originals, and print what changes.')
    .requiredOption('--prompt <name@version>', 'the version that decided them')
    .requiredOption('--with <version>', 'the fixed version to re-run them with')
    .option('--since <time>', 'runs started at or after', date('--since'))
    .option('--until <time>', 'runs started at or before', date('--until'))
    .option('--outcome <outcomes>', 'only runs that ended so (comma-separated: auto_applied, escalated, approved, corrected, …)')
    .option('--max <n>', 'at most this many runs', (v) => Number(v), 200)
    .addOption(new Option('--database-url <url>', 'the store (PostgreSQL), for the fixed version').env('DATABASE_URL'))
    .addOption(new Option('--data-dir <dir>', 'an embedded (PGlite) store no worker has open'))
    .option('--json', 'print machine-readable JSON')
    .action(async (opts: { prompt: string; with: string; since?: Date; until?: Date; outcome?: string; max: number; databaseUrl?: string; dataDir?: string; json?: boolean }) => {
      const at = opts.prompt.indexOf('@');
      if (at <= 0) h.fail(`--prompt: ${JSON.stringify(opts.prompt)} is not name@version`, EXIT.badInput);
      const name = opts.prompt.slice(0, at);
      const fixed = await withStore(opts, h, async (store, w) => (await w.getPromptVersion(store, name, opts.with)).record);
      await h.withClient(async (client) => {
        const runs = await selectAffectedRuns(client.client, { promptVersion: opts.prompt, since: opts.since, until: opts.until, outcomes: opts.outcome?.split(',').map((o) => o.trim()), max: opts.max });
        const diffs = await rerunWithVersion(client, runs, fixed);
        if (opts.json) return void process.stdout.write(`${JSON.stringify(diffs, null, 2)}\n`);
        const rows = [
          ['RUN', 'WAS', 'NOW', 'CHANGED', 'RE-RUN'],
          ...diffs.map((d) => [
            d.original.workflowId,
            `${d.original.category ?? '-'}/${d.original.urgency ?? '-'} (${d.original.outcome})`,
            `${d.now.category ?? '-'}/${d.now.urgency ?? '-'}${d.now.review ? ' (to review)' : ''}`,
            d.changed ? 'yes' : 'no',
            d.rerunId,
          ]),
        ];
        const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
        process.stdout.write(`${rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n')}\n`);
        process.stdout.write(`${diffs.length} run(s) decided by ${opts.prompt}; ${diffs.filter((d) => d.changed).length} would change with ${name}@${opts.with}\n`);
      });
    });
}
