/** What the benchmark sections share: percentiles, a slowed double, worker processes, and how a figure is reported. */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Harness } from '../examples/support/harness.js';
import { triageResponder } from '../examples/support/double/triage-responder.js';

export function percentile(samples: readonly number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Every triage reply from the harness's double now takes `latencyMs`, as a provider would. */
export function slowTriage(h: Harness, latencyMs: number): void {
  h.double.setFallback((req) => {
    const reply = triageResponder(req);
    return reply && reply.kind === 'json' ? { ...reply, delayMs: latencyMs } : reply;
  });
}

/** Linux's clock tick for /proc times (USER_HZ): 100 on every architecture it runs on. */
const USER_HZ = 100;

/**
 * CPU time in ms that a process and its live children have used so far, from /proc (Linux; null elsewhere or when
 * the process is gone). The children count for PostgreSQL, whose backends are processes of their own.
 */
export function processTreeCpuMs(pid: number): number | null {
  const stat = (p: string): { ppid: number; ms: number } | null => {
    try {
      // Fields after the command name (which may hold spaces) start at its closing parenthesis: ppid is the 2nd,
      // utime and stime the 12th and 13th.
      const text = readFileSync(`/proc/${p}/stat`, 'utf8');
      const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
      return { ppid: Number(f[1]), ms: ((Number(f[11]) + Number(f[12])) * 1000) / USER_HZ };
    } catch {
      return null;
    }
  };
  const own = stat(String(pid));
  if (!own) return null;
  let ms = own.ms;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || entry === String(pid)) continue;
    const child = stat(entry);
    if (child?.ppid === pid) ms += child.ms;
  }
  return ms;
}

/** The CPU this process (every thread) has used so far, in ms. */
export function ownCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** One line of the summary: a measured ratio and the target it is held to. */
export interface Figure {
  readonly name: string;
  readonly value: number;
  /** The ratio must be at most (`max`) or at least (`min`) this. */
  readonly target: { readonly max?: number; readonly min?: number };
  readonly detail: string;
}

export function meets(f: Figure): boolean {
  return (f.target.max === undefined || f.value <= f.target.max) && (f.target.min === undefined || f.value >= f.target.min);
}

export function formatFigure(f: Figure): string {
  const target = f.target.max !== undefined ? `≤ ${f.target.max.toFixed(2)}` : `≥ ${f.target.min!.toFixed(2)}`;
  return `${meets(f) ? 'met ' : 'MISS'}  ${f.name.padEnd(44)} ${f.value.toFixed(2).padStart(6)}  target ${target.padEnd(7)} ${f.detail}`;
}

// A non-escalating ticket: one model call and one tool call per triage run. `ticketEvent` makes the body unique
// per run so the response cache never answers.
export const TICKET = { subject: 'Auto top up', body: 'How do I use auto top up?' };

/** A worker process of the reference deployment, and its resident memory as the kernel counts it. */
export interface WorkerProcess {
  readonly child: ChildProcess;
  /** Resident set size in MB (`VmRSS`). */
  rssMb(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Starts `examples/support/worker` in its own process: as built (`node build/…/worker.js`, with the workflow bundle
 * written at build time) or from source through tsx (bundling at start), against `address` and the double.
 */
export async function spawnSupportWorker(o: {
  readonly address: string;
  readonly anthropicBaseURL: string;
  readonly dataDir: string;
  readonly taskQueue?: string;
  readonly built: boolean;
  readonly env?: Record<string, string>;
}): Promise<WorkerProcess> {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const args = o.built ? ['build/examples/support/worker.js'] : ['--import', 'tsx', 'examples/support/worker.ts'];
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: o.address,
      ANTHROPIC_API_KEY: 'bench',
      ANTHROPIC_BASE_URL: o.anthropicBaseURL,
      OPENAI_API_KEY: '',
      DATABASE_URL: '',
      GOVERNOR_DATA_DIR: o.dataDir,
      GOVERNOR_TASK_QUEUE: o.taskQueue ?? 'governor',
      GOVERNOR_METRICS_PORT: '0',
      GOVERNOR_LOG_LEVEL: 'ERROR',
      GOVERNOR_MODEL_TIMEOUT_MS: '60000',
      ...o.env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const deadline = Date.now() + 180_000;
  while (!stderr.includes('polling on')) {
    if (child.exitCode !== null) throw new Error(`the worker exited ${child.exitCode}: ${stderr.slice(-2000)}`);
    if (Date.now() > deadline) throw new Error(`the worker did not poll within 180 s: ${stderr.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    child,
    async rssMb() {
      const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
      return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
    },
    async stop() {
      // Already gone: exited, or killed by a signal (a killed process has no exit code).
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

/** The newest modification time of the TypeScript sources under `dirs` (ms), 0 when there are none. */
function newestSource(root: string, dirs: readonly string[]): number {
  let newest = 0;
  const walk = (dir: string) => {
    if (!existsSync(dir)) return;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
    }
  };
  for (const d of dirs) walk(join(root, d));
  return newest;
}

/**
 * Builds the worker as the image does (`npm run build:image`) unless a build newer than every source it is built
 * from is already there: a build left from older code would run old workflows against a newer store.
 */
export function ensureBuiltWorker(log: (line: string) => void): void {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const bundle = join(root, 'build/examples/support/workflow-bundle.js');
  if (existsSync(bundle) && statSync(bundle).mtimeMs >= newestSource(root, ['activities', 'contracts', 'workflows', 'workers', 'testing', 'examples/support'])) return;
  log('building the worker as the image does (npm run build:image)');
  execFileSync('npm', ['run', '--silent', 'build:image'], { cwd: root, stdio: 'ignore' });
}
