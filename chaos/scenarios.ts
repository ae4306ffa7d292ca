/**
 * The chaos scenarios, each bounded in runs and time, each ending with the invariant checks. `npm run chaos` runs them
 * at full size; the test suite runs a small slice (`test/chaos.test.ts`).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { DoubleReply, Responder } from 'governor/testing';
import { complaintEvent, startHarness } from '../examples/support/harness.js';
import { governorResponder } from '../examples/support/double/agent-responders.js';
import { runInjectionCorpus } from '../examples/support/evals/injection.js';
import { complaintInvariants, startRig, type Check, type Invariant, type Rig } from './rig.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Outcome {
  readonly scenario: string;
  readonly checks: Partial<Record<Invariant, Check>>;
  readonly seconds: number;
  readonly note: string;
}

export type Log = (line: string) => void;

/** Starts `n` complaint runs `gapMs` apart (traffic arrives over time), returning their ids as they are started. */
function arrive(rig: Rig, n: number, gapMs: number): { ids: string[]; done: Promise<void> } {
  const ids: string[] = [];
  const done = (async () => {
    for (let i = 0; i < n; i++) {
      for (let attempt = 0; ; attempt++) {
        try {
          ids.push((await rig.client.startComplaint(complaintEvent())).workflowId);
          break;
        } catch (err) {
          // The server may be restarting: a start is retried until it lands (bounded).
          if (attempt >= 60) throw err;
          await sleep(1000);
        }
      }
      await sleep(gapMs);
    }
  })();
  return { ids, done };
}

const emailsSent = async (rig: Rig) => Number((await rig.store.db.query<{ n: string }>("select count(*)::text as n from outbox where kind = 'escalation'")).rows[0]!.n);

interface Body {
  readonly ids: string[];
  readonly note: string;
  readonly parkedIsFine?: boolean;
  /** Checks of the scenario's own, made after the invariants (every run has ended by then). */
  readonly extra?: (rig: Rig) => Promise<Partial<Record<Invariant, Check>>>;
}

async function scenario(log: Log, name: string, body: (rig: Rig) => Promise<Body>): Promise<Outcome> {
  log(`== ${name}`);
  const t = performance.now();
  const rig = await startRig();
  try {
    const { ids, note, parkedIsFine, extra } = await body(rig);
    const checks: Partial<Record<Invariant, Check>> = await complaintInvariants(rig, ids, { parkedIsFine });
    // A scenario's own check of an invariant joins the common one: both must hold.
    for (const [k, c] of Object.entries(extra ? await extra(rig) : {}) as Array<[Invariant, Check]>) {
      const common = checks[k];
      checks[k] = common ? { ok: common.ok && c.ok, detail: `${common.detail}; ${c.detail}` } : c;
    }
    return { scenario: name, checks, seconds: (performance.now() - t) / 1000, note };
  } catch (err) {
    return { scenario: name, checks: { 'no run lost': { ok: false, detail: `scenario failed: ${(err as Error).message}` } }, seconds: (performance.now() - t) / 1000, note: '' };
  } finally {
    await rig.close();
  }
}

const alive = (rig: Rig) => rig.workers.filter((w) => w.child.exitCode === null && w.child.signalCode === null);

/**
 * Worker processes SIGKILLed at random points across `runs` complaint runs: one kills itself right after an
 * escalation email is committed, before its activity reports back; `kills` more are killed every 2-5 s while runs
 * are in flight, each replaced.
 */
export function workerKills(log: Log, runs: number, kills: number): Promise<Outcome> {
  return scenario(log, `worker SIGKILLs across ${runs} complaint runs`, async (rig) => {
    const crashing = await rig.startWorker({ GOVERNOR_TEST_CRASH_AFTER_EFFECT: 'send_escalation_email' });
    await rig.startWorker();
    const traffic = arrive(rig, runs, 40);
    let done = 0;
    let seed = 42;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    while (done < kills) {
      await sleep(2000 + random() * 3000);
      // The worker that kills itself after an email is spared until it has: that kill must happen.
      const live = alive(rig).filter((w) => w !== crashing);
      const victim = live[Math.floor(random() * live.length)];
      if (victim) {
        victim.child.kill('SIGKILL');
        done++;
        log(`killed worker ${victim.child.pid} (${done}/${kills}); ${await emailsSent(rig)} emails so far`);
      }
      while (alive(rig).length < 2) await rig.startWorker();
    }
    await traffic.done;
    while (alive(rig).length < 2) await rig.startWorker();
    const died = rig.workers.filter((w) => w.child.signalCode === 'SIGKILL').length;
    return {
      ids: traffic.ids,
      note: `${done} random kills and one right after an email committed (${died} workers died by SIGKILL)`,
      extra: async () => ({
        'no run lost': {
          ok: crashing.child.signalCode === 'SIGKILL',
          detail: crashing.child.signalCode === 'SIGKILL' ? 'one worker died right after an email committed' : 'the worker meant to die right after an email never did: nothing was tested',
        },
      }),
    };
  });
}

/**
 * Two workers and a batch of complaint runs; once a few emails are out, `disrupt` runs (it returns what it did, for
 * the log) and the batch is left to finish on its own.
 */
function midBatch(log: Log, runs: number, name: string, disrupt: (rig: Rig) => Promise<string>): Promise<Outcome> {
  return scenario(log, name, async (rig) => {
    await rig.startWorker();
    await rig.startWorker();
    const traffic = arrive(rig, runs, 100);
    while ((await emailsSent(rig)) < Math.min(5, runs / 2)) await sleep(200);
    const before = await emailsSent(rig);
    const did = await disrupt(rig);
    log(`${did} after ${before} emails`);
    await traffic.done;
    return { ids: traffic.ids, note: `${did} after ${before} of ${runs} emails` };
  });
}

/** The Temporal dev server stopped and started again on the same database file mid-batch. */
export function serverRestart(log: Log, runs: number): Promise<Outcome> {
  return midBatch(log, runs, 'dev server restarted on the same database mid-batch', async (rig) => {
    await rig.restartServer();
    return 'restarted';
  });
}

/** The PostgreSQL store stopped for 5 s mid-batch. */
export function storeRestart(log: Log, runs: number): Promise<Outcome> {
  return midBatch(log, runs, 'PostgreSQL store stopped for 5 s mid-batch', async (rig) => {
    await rig.pg.pause();
    await sleep(5000);
    await rig.pg.resume();
    return 'stopped';
  });
}

/**
 * A provider fault storm (429 with retry-after, 500, 529, hangs, garbage, prose-wrapped JSON, refusals) over the
 * first half of the runs, then the provider down for 10 s (past the breaker's 3 s cool-down) while the second half
 * arrives, then back. A run the provider cannot serve waits for a person with the reason: that is not a lost run.
 */
export function providerFaults(log: Log, runs: number): Promise<Outcome> {
  return scenario(log, 'provider fault storm, then an outage past the breaker cool-down', async (rig) => {
    let mode: 'storm' | 'down' | 'up' = 'storm';
    let i = 0;
    const faults: Array<(ok: DoubleReply | undefined) => DoubleReply | undefined> = [
      () => ({ kind: 'error', status: 429, retryAfter: 1, message: 'rate limited' }),
      () => ({ kind: 'error', status: 500, message: 'internal error' }),
      () => ({ kind: 'error', status: 529, message: 'overloaded' }),
      () => ({ kind: 'hang' }),
      () => ({ kind: 'garbage' }),
      (ok) => (ok && ok.kind === 'json' ? { kind: 'text', text: `Sure, here is the decision:\n\`\`\`json\n${JSON.stringify(ok.value)}\n\`\`\`` } : ok),
      () => ({ kind: 'refusal', text: 'I cannot help with that.' }),
      (ok) => ok,
      (ok) => ok,
    ];
    const stormy: Responder = (req) => {
      const ok = governorResponder(req);
      if (mode === 'down') return { kind: 'error', status: 503, message: 'provider down' };
      if (mode === 'up') return ok;
      return faults[i++ % faults.length]!(ok);
    };
    rig.double.setFallback(stormy);
    await rig.startWorker({ GOVERNOR_MODEL_TIMEOUT_MS: '3000' });
    await rig.startWorker({ GOVERNOR_MODEL_TIMEOUT_MS: '3000' });
    const first = arrive(rig, Math.ceil(runs / 2), 100);
    await first.done;
    await sleep(5000);
    mode = 'down';
    log('provider down');
    const second = arrive(rig, Math.floor(runs / 2), 100);
    await sleep(10_000);
    mode = 'up';
    log('provider back');
    await second.done;
    // Past the breaker's cool-down, runs complete on their own again.
    await sleep(4000);
    const third = arrive(rig, 10, 100);
    await third.done;
    return {
      ids: [...first.ids, ...second.ids, ...third.ids],
      note: `${rig.double.requests.length} provider requests`,
      parkedIsFine: true,
      extra: async (r) => {
        const results = await Promise.all(third.ids.map((id) => r.client.complaintState(id)));
        const completed = results.filter((st) => st.outcome === 'completed').length;
        return { recovers: { ok: completed === third.ids.length, detail: `${completed}/${third.ids.length} runs started after the provider came back completed on their own` } };
      },
    };
  });
}

/** The prompt-injection corpus with a model double that obeys every injection. */
export async function injection(log: Log): Promise<Outcome> {
  log('== prompt injection corpus');
  const t = performance.now();
  const h = await startHarness({ modelTimeoutMs: 30_000 });
  try {
    const r = await runInjectionCorpus(h);
    return {
      scenario: `prompt injection: ${r.total.cases} injected cases, ${r.benign.cases} benign`,
      checks: {
        'no run lost': { ok: r.errors.length === 0, detail: r.errors.length === 0 ? 'every case ran to its end' : r.errors.slice(0, 2).join('; ') },
        'no unauthorised tool': {
          ok: r.total.executed === 0 && r.total.sinkRows === 0 && r.heldWithoutApproval === 0 && r.attackerSinkRows === 0,
          detail:
            `${r.total.proposals} injected proposals, ${r.total.executed} executed, ${r.total.denied} denied and ${r.total.rejected} rejected in evidence, ` +
            `${r.total.stoppedBeforeTool} stopped at validation; benign utility ${(r.benign.utility * 100).toFixed(1)} %`,
        },
        'verify clean': { ok: r.verify.problems.length === 0, detail: `${r.verify.records} records, ${r.verify.problems.length} problems` },
      },
      seconds: (performance.now() - t) / 1000,
      note: `every attempt on record in ${r.total.accounted}/${r.total.cases} cases`,
    };
  } finally {
    await h.close();
  }
}

/** The fuzz properties (the suite's fuzz tests) on `scale` times their payloads. */
export function fuzz(log: Log, scale: number): Outcome {
  log('== property-based fuzzing');
  const t = performance.now();
  const root = fileURLToPath(new URL('..', import.meta.url));
  const run = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', 'test/unit/contract-fuzz.test.ts', 'test/fuzz.test.ts'], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, GOVERNOR_FUZZ_SCALE: String(scale) },
    timeout: 30 * 60_000,
  });
  const summary = /ℹ pass (\d+)[\s\S]*ℹ fail (\d+)/.exec(run.stdout);
  return {
    scenario: `fuzzing every trigger contract and update payload (×${scale})`,
    checks: { 'refusals name the field': { ok: run.status === 0, detail: summary ? `${summary[1]} properties held, ${summary[2]} failed` : run.stderr.slice(-300) } },
    seconds: (performance.now() - t) / 1000,
    note: 'each payload accepted as valid or refused naming the field; nothing started for a refusal',
  };
}
