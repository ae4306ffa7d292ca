import { readFile, writeFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { PayloadCodec } from '@temporalio/common';
import { Command, InvalidArgumentError, Option } from 'commander';
import ms from 'ms';
import type { EvidenceRecord } from '../contracts/evidence.js';
import { preparePayload } from '../contracts/trigger.js';
import type { AnyWorkflowDescriptor } from '../workflows/descriptor.js';
import { AesGcmPayloadCodec, codecKeysFromEnv } from '../activities/payload-codec.js';
import { createLogger } from '../workers/logger.js';
import { tracingFromEnv } from '../workers/tracing.js';
import type { SloSpec } from '../contracts/slo.js';
import { ConsoleAuthError, ConsoleRole, issueConsoleToken } from './console-tokens.js';
import { evidenceSource, type EvidenceSourceOptions } from './evidence-source.js';
import { PrometheusError } from '../workers/prometheus.js';
import { addPromptCommands, addRolloutCommands } from './prompts-cli.js';
import { buildReport, formatReport, reportHtml, sloHtml } from './report.js';
import { evaluateSlos, formatSloTable, sloRulesYaml } from './slo.js';
import { GovernorClient, InvalidInputError, prepareStart, TemporalUnreachableError, type UpdateResult } from './governor-client.js';

/**
 * Exit codes: 0 done; 1 could not reach Temporal or the run failed; 2 bad input (nothing was started or sent);
 * 3 refused or unknown (already decided, not authorised, not awaiting a decision, no such run).
 */
export const EXIT = { ok: 0, failure: 1, badInput: 2, refused: 3 } as const;

class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/** The claim-check codec on the deployment's store, when its workers keep large payloads there. */
async function claimCheckFromEnv(env: NodeJS.ProcessEnv = process.env): Promise<{ codec: PayloadCodec; close(): Promise<void> } | undefined> {
  if (!env.GOVERNOR_CLAIM_CHECK_BYTES) return undefined;
  const thresholdBytes = Number(env.GOVERNOR_CLAIM_CHECK_BYTES);
  if (!env.DATABASE_URL) throw new CliError('GOVERNOR_CLAIM_CHECK_BYTES: payloads kept in the store are read from it: set DATABASE_URL too', EXIT.badInput);
  const [{ openStore }, { ClaimCheckCodec }] = await Promise.all([import('../activities/store.js'), import('../activities/claim-check.js')]);
  const store = await openStore({ databaseUrl: env.DATABASE_URL, migrate: false });
  try {
    return { codec: new ClaimCheckCodec({ store, thresholdBytes }), close: () => store.close() };
  } catch (err) {
    await store.close();
    throw new CliError(`GOVERNOR_CLAIM_CHECK_BYTES: ${(err as Error).message}`, EXIT.badInput);
  }
}

/** A `start` flag that sets one key of the run's config (`--threshold 0.8` → `confidenceThreshold: 0.8`). */
export interface StartFlag {
  readonly flags: string;
  readonly description: string;
  readonly configKey: string;
  /** Parses the flag's text; throw commander's `InvalidArgumentError` to refuse it (exit 2). */
  readonly parse?: (value: string) => unknown;
}

export interface CliOptions {
  /** The workflows this CLI starts, shows and decides, by descriptor. */
  readonly workflows: readonly AnyWorkflowDescriptor[];
  readonly name?: string;
  readonly description?: string;
  readonly startFlags?: readonly StartFlag[];
  /** Extra lines for `--help` (examples of your own workflows). */
  readonly examples?: readonly string[];
  /** The SLOs `governor slo` reports on and writes rules for. */
  readonly slos?: readonly SloSpec[];
  /** Adds commands of your own (shortcuts for your decisions), with the CLI's helpers. */
  readonly extend?: (program: Command, helpers: CliHelpers) => void;
}

export interface CliHelpers {
  withClient<T>(fn: (client: GovernorClient) => Promise<T>): Promise<T>;
  /** Sends one decision by its descriptor verb and prints `accepted` (exit 0) or the refusal (exit 2 or 3). */
  decide(workflowId: string, verb: string, payload: unknown, accepted: (answer: Record<string, unknown>) => string): Promise<void>;
  /** Starts a run of `workflow` from a trigger file, as `start --workflow` does. */
  start(file: string | undefined, workflow: string, opts: StartCommandOptions): Promise<void>;
  /** The `--reviewer` option: mandatory, or from `GOVERNOR_REVIEWER`. */
  reviewerOption(): Option;
  /** Ends the command with a message and an exit code (`EXIT`). */
  fail(message: string, exitCode: number): never;
}

interface StartCommandOptions {
  workflow?: string;
  config?: string;
  provider?: string;
  model?: string;
  wait?: boolean;
  waitTimeout?: number;
  json?: boolean;
  [flag: string]: unknown;
}

async function readInput(file: string | undefined): Promise<string> {
  if (file && file !== '-') {
    try {
      return await readFile(file, 'utf8');
    } catch (err) {
      throw new CliError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, EXIT.badInput);
    }
  }
  if (process.stdin.isTTY) throw new CliError('give a trigger event file, or pipe one on standard input', EXIT.badInput);
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function duration(value: string): number {
  const n = /^\d+$/.test(value) ? Number(value) * 1000 : ms(value as Parameters<typeof ms>[0]);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a duration such as 90s, 10m or 1h');
  return n;
}

function jsonObject(value: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new InvalidArgumentError('must be a JSON object');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new InvalidArgumentError('must be a JSON object');
  return parsed as Record<string, unknown>;
}

function printEvidence(records: readonly EvidenceRecord[]): void {
  const rows = records.map((r) => [
    String(r.seq),
    r.evidenceId,
    r.stepId,
    r.actor,
    r.tool,
    r.status,
    `${r.permission}${r.approver ? ` by ${r.approver}` : ''} (${r.policyRule || '-'})`,
    r.receiptId ?? '-',
    r.startedAt.slice(11, 23),
    `${Date.parse(r.finishedAt) - Date.parse(r.startedAt)} ms`,
    r.detail ?? '',
  ]);
  const head = ['SEQ', 'EVIDENCE', 'STEP', 'ACTOR', 'TOOL', 'STATUS', 'PERMISSION', 'RECEIPT', 'STARTED', 'TOOK', 'DETAIL'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const r of [head, ...rows]) process.stdout.write(`${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd()}\n`);
}

function printState(d: AnyWorkflowDescriptor | undefined, state: unknown): void {
  process.stdout.write(`${d?.describe ? d.describe(state).join('\n') : JSON.stringify(state, null, 2)}\n`);
}

/**
 * The CLI's own log: with `--log-format json` (or `GOVERNOR_LOG_FORMAT=json`) one JSON object per line on standard
 * error for each thing it did (run started, decision sent) and for each error, through the same logger and redaction
 * as the workers; with `text` (the default) errors are plain sentences and nothing else is logged.
 */
class CliLog {
  json = process.env.GOVERNOR_LOG_FORMAT === 'json';
  #logger: ReturnType<typeof createLogger> | undefined;
  private get logger() {
    this.#logger ??= createLogger({ service: 'governor-cli' });
    return this.#logger;
  }
  info(fields: Record<string, unknown>, message: string): void {
    if (this.json) this.logger.info(fields, message);
  }
  error(message: string, fields: Record<string, unknown> = {}): void {
    if (this.json) this.logger.error(fields, message);
    else process.stderr.write(`governor: ${message}\n`);
  }
}

/**
 * A `governor` CLI for a set of workflow descriptors: `start` (the workflow is picked by the trigger's event type, or
 * `--workflow`), `status`, `pending`, `decide`, `workflows`, and the evidence and breaker commands, which need no
 * descriptors. Input is read and validated before anything is contacted.
 */
export function createCli(options: CliOptions, log = new CliLog()): Command {
  const workflows = options.workflows;
  const program = new Command(options.name ?? 'governor')
    .description(options.description ?? 'Governed AI workflows on Temporal: start runs from trigger events, decide what waits for a person, inspect runs.')
    .showHelpAfterError()
    // Set before the subcommands exist so they inherit it: errors come back to runCli(), which picks the exit code.
    .exitOverride()
    .addOption(new Option('--address <host:port>', 'Temporal frontend (default: TEMPORAL_ADDRESS, the profile, else 127.0.0.1:7233)'))
    .addOption(new Option('--namespace <name>', 'Temporal namespace (default: TEMPORAL_NAMESPACE, the profile, else default)'))
    .addOption(new Option('--profile <name>', "profile of Temporal's config file (TLS, API key, address)").env('TEMPORAL_PROFILE'))
    .addOption(new Option('--task-queue <name>', 'task queue runs are started on').env('GOVERNOR_TASK_QUEUE'))
    .addOption(new Option('--log-format <format>', 'text, or json: one JSON object per line on standard error').choices(['text', 'json']).env('GOVERNOR_LOG_FORMAT'))
    .hook('preAction', () => {
      log.json = program.opts<{ logFormat?: string }>().logFormat === 'json';
    })
    .addHelpText(
      'after',
      `
Examples:
${[
  ...(options.examples ?? []),
  '  governor workflows                         the workflows this CLI knows, their triggers and decisions',
  '  governor start event.json --wait           start the run the event\'s type names; wait until it settles',
  '  governor pending                           runs waiting for a person',
  '  governor status <workflowId>               what a run did, and where it is now',
  '  governor decide <workflowId> <verb> --payload \'{"reviewerId":"usr_442", ...}\'',
  '  governor evidence <workflowId>             the run\'s evidence records, as a table',
  '  governor verify                            check the evidence hash chains; names any altered record',
  '  governor breakers                          circuit breakers of the worker at GOVERNOR_METRICS_URL',
  '  governor dead-letter                       runs that failed for good; governor rerun <workflowId> starts one again',
  '  governor slo                               each SLO: objective, current, budget left, burn rate (from Prometheus)',
  '  governor slo --rules > slo-rules.yml       the SLOs as Prometheus recording and alerting rules',
  '  governor report --hours 24 --html r.html   runs by outcome, review load, cost, latency; a page with charts',
  '  governor prompts list                      prompt versions, hashes, labels (DATABASE_URL: the store)',
  '  governor prompts promote <name> <version> --actor you --reason "…"   the next runs use it',
  '  governor rollout set <workflow> --prompt name@version --stage shadow --share 0.1 --actor you --reason "…"',
  '  governor kill-switch <workflow> on --actor you --reason "…"   every new run waits for a person',
].join('\n')}

Exit codes: 0 ok, 1 Temporal unreachable or run failed, 2 bad input (nothing started or sent), 3 refused or unknown run.`,
    );

  const withClient = async <T>(fn: (client: GovernorClient) => Promise<T>): Promise<T> => {
    const opts = program.opts<{ address?: string; namespace?: string; profile?: string; taskQueue?: string }>();
    // The workers' payload keys (GOVERNOR_CODEC_KEYS), when payloads are encrypted: the client reads and writes them too.
    const keys = codecKeysFromEnv();
    const codec = keys ? new AesGcmPayloadCodec(keys) : undefined;
    // OpenTelemetry from its standard variables (OTEL_EXPORTER_OTLP_ENDPOINT): a start or a decision is the root span.
    const tracing = tracingFromEnv(process.env, 'governor-cli');
    // Workers that keep large payloads in the store (GOVERNOR_CLAIM_CHECK_BYTES): the CLI reads them from the same
    // PostgreSQL store (DATABASE_URL); loaded only then, so other commands never open a database.
    const claimCheck = await claimCheckFromEnv();
    try {
      const client = await GovernorClient.connect({ address: opts.address, namespace: opts.namespace, profile: opts.profile, taskQueue: opts.taskQueue, workflows, codec, claimCheck: claimCheck?.codec, tracing });
      try {
        return await fn(client);
      } finally {
        await client.close();
      }
    } finally {
      await claimCheck?.close();
      await tracing?.shutdown();
    }
  };
  const byName = (name: string) => {
    const d = workflows.find((w) => w.name === name);
    if (!d) throw new CliError(`unknown workflow ${JSON.stringify(name)}; known: ${workflows.map((w) => w.name).join(', ') || '(none)'}`, EXIT.badInput);
    return d;
  };
  const refused = (result: { status: string; message: string }) =>
    new CliError(`${result.status.replace(/_/g, ' ')}: ${result.message}`, result.status === 'invalid' ? EXIT.badInput : EXIT.refused);

  const start = async (file: string | undefined, workflow: string | undefined, opts: StartCommandOptions) => {
    const raw = await readInput(file);
    // Everything is validated before anything is contacted: the descriptor (by event type), the event, the config.
    let d: AnyWorkflowDescriptor;
    if (workflow) d = byName(workflow);
    else {
      const prepared = preparePayload(raw);
      if (!prepared.ok) throw new InvalidInputError('trigger', prepared.issues);
      const type = (prepared.value as { event?: unknown } | null)?.event;
      const found = workflows.find((w) => w.trigger.eventType !== null && w.trigger.eventType === type);
      if (!found) {
        const known = workflows.filter((w) => w.trigger.eventType).map((w) => `${w.trigger.eventType} (${w.name})`);
        throw new InvalidInputError('trigger', [{ field: 'event', rule: `${JSON.stringify(type ?? null)} starts no workflow here; known: ${known.join(', ')} (or name one with --workflow)` }]);
      }
      d = found;
    }
    const config: Record<string, unknown> = { ...(opts.config ? jsonObject(opts.config) : {}) };
    for (const flag of options.startFlags ?? []) {
      const key = new Option(flag.flags).attributeName();
      if (opts[key] !== undefined) config[flag.configKey] = opts[key];
    }
    const model = opts.provider || opts.model ? { provider: opts.provider ?? 'anthropic', model: opts.model ?? null } : undefined;
    const prepared = prepareStart(d, raw, config, model);
    await withClient(async (client) => {
      const started = await client.startPrepared(prepared);
      log.info({ workflowType: d.name, workflowId: started.workflowId, runId: started.runId, started: started.started }, started.started ? 'run started' : 'run already started');
      let state: unknown;
      if (opts.wait) {
        const limit = opts.waitTimeout ?? 10 * 60_000;
        const deadline = Date.now() + limit;
        for (;;) {
          const description = await client.client.workflow.getHandle(started.workflowId).describe();
          state = await client.state(started.workflowId).catch(() => state);
          const phase = (state as { phase?: string } | undefined)?.phase;
          if (description.status.name !== 'RUNNING' || (phase !== undefined && d.waitingPhases.includes(phase))) break;
          if (Date.now() > deadline) throw new CliError(`run ${started.workflowId} did not settle within ${Math.round(limit / 1000)}s (--wait-timeout)`, EXIT.failure);
          await new Promise((r) => setTimeout(r, 250));
        }
      }
      if (opts.json) return void process.stdout.write(`${JSON.stringify({ ...started, state }, null, 2)}\n`);
      process.stdout.write(`${started.started ? 'started' : 'already started (duplicate event id)'}: ${started.workflowId}\n`);
      if (state !== undefined) printState(d, state);
    });
  };

  const startCommand = program
    .command('start')
    .description('Start a run from a trigger event: the event\'s type picks the workflow (a duplicate event id returns the existing run).')
    .argument('[file]', 'JSON file with the trigger event; - or omitted reads standard input')
    .option('--workflow <name>', 'the workflow to start, when the event\'s type does not say (or to choose another)')
    .option('--config <json>', 'the run\'s settings, as a JSON object (validated against the workflow\'s config)')
    .option('--provider <name>', 'model provider (default GOVERNOR_PROVIDER, else the provider whose key is set)')
    .option('--model <name>', "model name (default GOVERNOR_MODEL, else the prompt's model for the provider)")
    .option('--wait', 'wait until the run finishes or waits for a person, then print its state')
    .addOption(new Option('--wait-timeout <duration>', 'give up waiting after this long (e.g. 90s, 10m)').argParser(duration).default(10 * 60_000, '10m'))
    .option('--json', 'print machine-readable JSON');
  for (const flag of options.startFlags ?? []) {
    const option = new Option(flag.flags, flag.description);
    startCommand.addOption(flag.parse ? option.argParser(flag.parse) : option);
  }
  startCommand.action((file: string | undefined, opts: StartCommandOptions) => start(file, opts.workflow, opts));

  program
    .command('workflows')
    .description('List the workflows this CLI knows: trigger event, decisions people can send.')
    .option('--json', 'print machine-readable JSON')
    .action((opts: { json?: boolean }) => {
      const rows = workflows.map((w) => ({ name: w.name, trigger: w.trigger.eventType, decisions: Object.keys(w.decisions), description: w.description }));
      if (opts.json) return void process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
      for (const r of rows) process.stdout.write(`${r.name}\n  ${r.description}\n  trigger: ${r.trigger ?? '(input given with --workflow)'}\n  decisions: ${r.decisions.join(', ') || '-'}\n`);
    });

  program
    .command('status')
    .description("Show a run's state: phase, steps with evidence ids, what it waits for.")
    .argument('<workflowId>')
    .option('--json', 'print machine-readable JSON')
    .action(async (workflowId: string, opts: { json?: boolean }) => {
      await withClient(async (client) => {
        let type: string;
        try {
          type = await client.typeOf(workflowId);
        } catch (err) {
          if (err instanceof WorkflowNotFoundError) throw new CliError(`not found: no run ${workflowId}`, EXIT.refused);
          throw err;
        }
        const state = await client.state(workflowId).catch((err: Error) => {
          throw new CliError(`cannot read ${workflowId}: ${err.message}`, EXIT.failure);
        });
        if (opts.json) process.stdout.write(`${JSON.stringify(state, null, 2)}\n`);
        else printState(workflows.find((w) => w.name === type), state);
      });
    });

  program
    .command('pending')
    .description('List runs waiting for a person (a review, an approval, a human task).')
    .option('--json', 'print machine-readable JSON')
    .action(async (opts: { json?: boolean }) => {
      await withClient(async (client) => {
        const items = await client.listPending();
        if (opts.json) return void process.stdout.write(`${JSON.stringify(items, null, 2)}\n`);
        if (items.length === 0) return void process.stdout.write('no runs are waiting for a person\n');
        for (const i of items) {
          const extra = Object.values(i.attributes).map((v) => (v === null ? '-' : String(v)));
          process.stdout.write(`${[i.workflowId, i.workflowType, i.phase ?? '-', ...extra, `started ${i.startedAt}`].join('\t')}\n`);
        }
      });
    });

  program
    .command('dead-letter')
    .description('Runs that ended in a terminal failure (failed, timed out), newest first, with why: each re-runnable with `governor rerun`.')
    .option('--json', 'print machine-readable JSON')
    .action(async (opts: { json?: boolean }) => {
      await withClient(async (client) => {
        const items = await client.listDeadLetter();
        if (opts.json) return void process.stdout.write(`${JSON.stringify(items, null, 2)}\n`);
        if (items.length === 0) return void process.stdout.write('no run ended in a terminal failure\n');
        for (const i of items) process.stdout.write(`${[i.workflowId, i.workflowType, i.status, i.closedAt ?? '-', i.reason, i.rerunOf ? `re-run of ${i.rerunOf}` : ''].filter(Boolean).join('\t')}\n`);
      });
    });

  program
    .command('rerun')
    .description('Start a run again with its original argument, as a new run linked to it (after a fix).')
    .argument('<workflowId>')
    .option('--json', 'print machine-readable JSON')
    .action(async (workflowId: string, opts: { json?: boolean }) => {
      await withClient(async (client) => {
        let started;
        try {
          started = await client.rerun(workflowId);
        } catch (err) {
          if (err instanceof WorkflowNotFoundError) throw new CliError(`not found: no run ${workflowId}`, EXIT.refused);
          throw err;
        }
        log.info({ workflowId: started.workflowId, runId: started.runId, rerunOf: workflowId }, 'run re-started');
        if (opts.json) return void process.stdout.write(`${JSON.stringify(started, null, 2)}\n`);
        process.stdout.write(`re-run of ${workflowId}: ${started.workflowId}\n`);
      });
    });

  const decide: CliHelpers['decide'] = async (workflowId, verb, payload, accepted) => {
    const result: UpdateResult<Record<string, unknown>> = await withClient((client) => client.decide(workflowId, verb, payload));
    log.info({ workflowId, verb, status: result.status }, 'decision sent');
    if (result.status !== 'accepted') throw refused(result);
    process.stdout.write(`${accepted(result)}\n`);
  };

  program
    .command('decide')
    .description("Send a decision a run waits for, by its verb (`governor workflows` lists each workflow's verbs).")
    .argument('<workflowId>')
    .argument('<verb>')
    .requiredOption('--payload <json>', 'the decision, as JSON (validated against the decision\'s schema before it is sent)', jsonObject)
    .action((workflowId: string, verb: string, opts: { payload: Record<string, unknown> }) =>
      decide(workflowId, verb, opts.payload, (answer) => `accepted: ${verb} on ${workflowId} ${JSON.stringify(answer)}`),
    );

  const sourceOptions = (cmd: Command) =>
    cmd
      .addOption(new Option('--database-url <url>', 'read the evidence from this PostgreSQL database').env('DATABASE_URL'))
      .addOption(new Option('--data-dir <dir>', 'read an embedded (PGlite) store directly; only while no worker has it open'))
      .addOption(new Option('--metrics-url <url>', 'otherwise ask the worker that owns the store').env('GOVERNOR_METRICS_URL').default('http://127.0.0.1:9464'))
      .option('--json', 'print machine-readable JSON');

  sourceOptions(
    program
      .command('evidence')
      .description("Show a run's evidence records as a table: what ran, on whose authority, with what result, in order.")
      .argument('<workflowId>'),
  ).action(async (workflowId: string, opts: EvidenceSourceOptions & { json?: boolean }) => {
    const source = await evidenceSource(opts);
    try {
      const records = await source.list(workflowId);
      if (opts.json) return void process.stdout.write(`${JSON.stringify(records, null, 2)}\n`);
      if (records.length === 0) throw new CliError(`no evidence for ${workflowId} in ${source.describe}`, EXIT.refused);
      printEvidence(records);
    } finally {
      await source.close();
    }
  });

  sourceOptions(
    program
      .command('verify')
      .description('Check the evidence hash chains (one run, or all): exits 1 and names each altered, removed or reordered record.')
      .argument('[workflowId]'),
  ).action(async (workflowId: string | undefined, opts: EvidenceSourceOptions & { json?: boolean }) => {
    const source = await evidenceSource(opts);
    try {
      const report = await source.verify(workflowId);
      if (opts.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      else {
        process.stdout.write(`checked ${report.records} records in ${report.workflows} chains${report.unchained ? ` (${report.unchained} written before the chain existed, not checked)` : ''}\n`);
        for (const p of report.problems) process.stdout.write(`TAMPERED  ${p.evidenceId} (seq ${p.seq}, ${p.workflowId}): ${p.problem}\n`);
        if (report.problems.length === 0) process.stdout.write('ok: every record matches its hash and its chain\n');
      }
      if (report.problems.length > 0) throw new CliError(`${report.problems.length} evidence record(s) failed verification`, EXIT.failure);
    } finally {
      await source.close();
    }
  });

  program
    .command('breakers')
    .description("Show a worker's circuit breakers (per provider and tool): state, times opened, calls refused while open.")
    .addOption(new Option('--metrics-url <url>', "the worker's metrics address").env('GOVERNOR_METRICS_URL').default('http://127.0.0.1:9464'))
    .option('--json', 'print machine-readable JSON')
    .action(async (opts: { metricsUrl: string; json?: boolean }) => {
      let breakers: Array<{ name: string; state: string; opened: number; rejected: number }>;
      try {
        const res = await fetch(`${opts.metricsUrl.replace(/\/$/, '')}/breakers`, { signal: AbortSignal.timeout(5_000) });
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        breakers = (await res.json()) as typeof breakers;
      } catch (err) {
        throw new CliError(`cannot read breakers from ${opts.metricsUrl} (${(err as Error).message}); is a worker running there?`, EXIT.failure);
      }
      if (opts.json) return void process.stdout.write(`${JSON.stringify(breakers, null, 2)}\n`);
      if (breakers.length === 0) return void process.stdout.write('no breakers yet: the worker has made no guarded calls\n');
      process.stdout.write(`${'BREAKER'.padEnd(24)} ${'STATE'.padEnd(10)} ${'OPENED'.padEnd(7)} REFUSED\n`);
      for (const b of breakers) process.stdout.write(`${b.name.padEnd(24)} ${b.state.padEnd(10)} ${String(b.opened).padEnd(7)} ${b.rejected}\n`);
    });

  options.extend?.(program, {
    withClient,
    decide,
    start: (file, workflow, opts) => start(file, workflow, opts),
    reviewerOption: () => new Option('--reviewer <id>', 'your reviewer id (must be allowed for the run)').makeOptionMandatory().env('GOVERNOR_REVIEWER'),
    fail: (message, exitCode) => {
      throw new CliError(message, exitCode);
    },
  });
  const storeCommandHelpers = {
    fail: (message: string, exitCode: number): never => {
      throw new CliError(message, exitCode);
    },
  };
  addPromptCommands(program, storeCommandHelpers);
  addRolloutCommands(program, storeCommandHelpers);

  const prometheusOption = () => new Option('--prometheus <url>', "Prometheus' base URL").env('GOVERNOR_PROMETHEUS_URL').default('http://127.0.0.1:9090');
  const fromPrometheus = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof PrometheusError) throw new CliError(err.message, EXIT.failure);
      throw err;
    }
  };
  const writePage = async (file: string, html: string) => {
    await writeFile(file, html);
    process.stdout.write(`wrote ${file}\n`);
  };

  program
    .command('slo')
    .description('Each SLO over its rolling window, from Prometheus: objective, current, error budget left, burn rate, breach actions.')
    .addOption(prometheusOption())
    .option('--rules', 'print the SLOs as Prometheus recording and alerting rules (YAML) instead')
    .option('--html <file>', 'also write the report as a self-contained HTML page')
    .option('--json', 'print machine-readable JSON')
    .action(async (opts: { prometheus: string; rules?: boolean; html?: string; json?: boolean }) => {
      const slos = options.slos ?? [];
      if (opts.rules) return void process.stdout.write(sloRulesYaml(slos));
      if (slos.length === 0) return void process.stdout.write('no SLOs are declared for these workflows\n');
      const statuses = await fromPrometheus(() => evaluateSlos(opts.prometheus, slos));
      if (opts.json) process.stdout.write(`${JSON.stringify(statuses, null, 2)}\n`);
      else process.stdout.write(`${formatSloTable(statuses)}\n`);
      if (opts.html) await writePage(opts.html, sloHtml(statuses));
    });

  program
    .command('report')
    .description('What the workflows did over the last hours, from Prometheus: runs by outcome, review load, cost, latency, failure rates.')
    .addOption(prometheusOption())
    .addOption(
      new Option('--hours <n>', 'how far back (1-720)')
        .argParser((v) => {
          const n = Number(v);
          if (!Number.isInteger(n) || n < 1 || n > 720) throw new InvalidArgumentError('a whole number of hours from 1 to 720');
          return n;
        })
        .default(24),
    )
    .option('--html <file>', 'also write the report as a self-contained HTML page with charts')
    .option('--json', 'print machine-readable JSON')
    .action(async (opts: { prometheus: string; hours: number; html?: string; json?: boolean }) => {
      const report = await fromPrometheus(() => buildReport(opts.prometheus, opts.hours));
      if (opts.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      else process.stdout.write(`${formatReport(report)}\n`);
      if (opts.html) await writePage(opts.html, reportHtml(report));
    });

  const consoleCmd = program.command('console').description('The reviewer console: sign-in tokens for the people who decide.');
  consoleCmd
    .command('token')
    .description('Issue a sign-in token for one person (signed with GOVERNOR_CONSOLE_SECRET): paste it at the console\'s sign-in page, or send it as a bearer token.')
    .requiredOption('--reviewer <id>', 'who the token speaks for (the id runs list as their reviewers or approvers)')
    .addOption(new Option('--role <role...>', 'reviewer (reviews, tasks), approver (held actions), admin (both, and the audit log)').choices(ConsoleRole.options).default(['reviewer']))
    .option('--ttl <duration>', 'how long it is valid (at most 30d)', '8h')
    .option('--json', 'print machine-readable JSON')
    .action(async (opts: { reviewer: string; role: ConsoleRole[]; ttl: string; json?: boolean }) => {
      let issued;
      try {
        issued = await issueConsoleToken(process.env.GOVERNOR_CONSOLE_SECRET, { reviewerId: opts.reviewer, roles: opts.role, ttl: opts.ttl });
      } catch (err) {
        if (err instanceof ConsoleAuthError) throw new CliError(err.message, EXIT.badInput);
        throw err;
      }
      const expires = new Date(issued.identity.expiresAt * 1000).toISOString();
      if (opts.json) return void process.stdout.write(`${JSON.stringify({ token: issued.token, reviewerId: opts.reviewer, roles: issued.identity.roles, expiresAt: expires }, null, 2)}\n`);
      process.stdout.write(`${issued.token}\n`);
      process.stderr.write(`token for ${opts.reviewer} (${issued.identity.roles.join(', ')}), valid until ${expires}\n`);
    });

  return program;
}

/** Runs a CLI built by `createCli` and returns its exit code; every error becomes a message and a code, never a stack. */
export async function runCli(argv: string[], options: CliOptions): Promise<number> {
  const log = new CliLog();
  try {
    await createCli(options, log).parseAsync(argv);
    return EXIT.ok;
  } catch (err) {
    return reportError(err, log);
  }
}

function reportError(err: unknown, log: CliLog): number {
  if (err instanceof CliError) {
    log.error(err.message, { exitCode: err.exitCode });
    return err.exitCode;
  }
  if (err instanceof InvalidInputError) {
    if (log.json) log.error(`invalid ${err.what}; nothing was started`, { exitCode: EXIT.badInput, issues: err.issues });
    else process.stderr.write(`governor: invalid ${err.what}; nothing was started:\n${err.issues.map((i) => `  ${i.field}: ${i.rule}`).join('\n')}\n`);
    return EXIT.badInput;
  }
  const code = (err as { code?: string }).code;
  if (typeof code === 'string' && code.startsWith('commander.')) {
    // commander already printed the message (or the help).
    return code === 'commander.helpDisplayed' || code === 'commander.version' || code === 'commander.help' ? EXIT.ok : EXIT.badInput;
  }
  log.error((err as Error).message, { exitCode: EXIT.failure, ...(err instanceof TemporalUnreachableError ? { reason: 'temporal_unreachable' } : {}) });
  return EXIT.failure;
}

/**
 * The installed `governor` command. Workflows come from a module of yours (`--workflows ./dist/workflows.js` or
 * `GOVERNOR_WORKFLOWS`) that exports its descriptors as `workflows` (or as its default export); without one, the
 * commands that need no descriptors still work (pending, status as JSON, evidence, verify, breakers).
 */
export async function main(argv: string[]): Promise<number> {
  let modulePath = process.env.GOVERNOR_WORKFLOWS;
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--workflows') modulePath = argv[++i];
    else if (arg.startsWith('--workflows=')) modulePath = arg.slice('--workflows='.length);
    else rest.push(arg);
  }
  let workflows: AnyWorkflowDescriptor[] = [];
  let slos: SloSpec[] = [];
  if (modulePath) {
    try {
      const url = pathToFileURL(isAbsolute(modulePath) ? modulePath : resolve(modulePath)).href;
      const mod = (await import(url)) as { workflows?: unknown; default?: unknown; slos?: unknown };
      const found = mod.workflows ?? mod.default;
      if (!Array.isArray(found)) throw new Error('it exports no `workflows` array of descriptors');
      workflows = found as AnyWorkflowDescriptor[];
      if (Array.isArray(mod.slos)) slos = mod.slos as SloSpec[];
    } catch (err) {
      process.stderr.write(`governor: cannot load workflows from ${modulePath}: ${(err as Error).message}\n`);
      return EXIT.badInput;
    }
  }
  return runCli(rest, { workflows, slos });
}

/** Makes a script the entry point of a CLI: a closed pipe (`governor pending | head`) is the reader being done. */
export async function runAsMain(run: () => Promise<number>): Promise<void> {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  process.exitCode = await run();
}
