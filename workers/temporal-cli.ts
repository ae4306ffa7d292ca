import { spawn, spawnSync } from 'node:child_process';
import { access, constants, mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';

/**
 * The Temporal CLI (dev server + Web UI) is provisioned offline: no release downloads are reachable, so the pinned
 * version is built from the Go module proxy once and cached per user, outside the repository.
 *
 * v1.5.1 is the newest tag whose go.mod has no `replace` directive, which `go install pkg@version` refuses.
 */
export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal';
export const TEMPORAL_CLI_VERSION = 'v1.5.1';

export interface ProvisionOptions {
  /** Progress lines (defaults to stderr). */
  readonly log?: (line: string) => void;
  readonly env?: NodeJS.ProcessEnv;
}

export interface ProvisionedCli {
  readonly path: string;
  readonly source: 'TEMPORAL_CLI' | 'PATH' | 'cache' | 'built';
  readonly buildSeconds?: number;
}

export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.GOVERNOR_CACHE_DIR || join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'governor');
  return join(base, 'temporal-cli', TEMPORAL_CLI_VERSION);
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string, env: NodeJS.ProcessEnv, probeArgs: string[]): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    const probe = spawnSync(candidate, probeArgs, { stdio: 'ignore', timeout: 10_000 });
    if (probe.status === 0) return candidate;
  }
  return undefined;
}

/**
 * Finds the CLI in this order: `TEMPORAL_CLI`, `temporal` on PATH, the cache, then builds it into the cache.
 */
export async function provisionTemporalCli(options: ProvisionOptions = {}): Promise<ProvisionedCli> {
  const env = options.env ?? process.env;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  if (env.TEMPORAL_CLI) {
    if (!(await isExecutable(env.TEMPORAL_CLI))) {
      throw new Error(`TEMPORAL_CLI=${env.TEMPORAL_CLI} is not an executable file; unset it or point it at the temporal binary`);
    }
    return { path: env.TEMPORAL_CLI, source: 'TEMPORAL_CLI' };
  }
  const fromPath = onPath('temporal', env, ['--version']);
  if (fromPath) return { path: fromPath, source: 'PATH' };
  const dir = cacheDir(env);
  const cached = join(dir, 'temporal');
  if (await isExecutable(cached)) return { path: cached, source: 'cache' };
  const buildSeconds = await build(dir, env, log);
  return { path: cached, source: 'built', buildSeconds };
}

async function build(dir: string, env: NodeJS.ProcessEnv, log: (line: string) => void): Promise<number> {
  const go = onPath('go', env, ['version']);
  if (!go) {
    throw new Error(
      'The Temporal CLI is not installed and Go is not available to build it. Install the Temporal CLI ' +
        '(https://docs.temporal.io/cli) and put it on PATH or set TEMPORAL_CLI, or install Go 1.23+.',
    );
  }
  await mkdir(dir, { recursive: true });
  // Build into a private directory and rename: two builds racing each other both finish with a whole binary.
  const staging = await mkdtemp(join(dir, 'build-'));
  const started = Date.now();
  log(`governor: building Temporal CLI ${TEMPORAL_CLI_VERSION} from the Go module proxy into ${dir}`);
  log('governor: this happens once per machine and takes a few minutes; progress follows');
  const child = spawn(go, ['install', `${TEMPORAL_CLI_MODULE}@${TEMPORAL_CLI_VERSION}`], {
    env: { ...env, GOBIN: staging, GOFLAGS: '-mod=mod', CGO_ENABLED: env.CGO_ENABLED ?? '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let tail = '';
  const onOutput = (chunk: Buffer) => {
    const text = chunk.toString();
    tail = (tail + text).slice(-4000);
    for (const line of text.split('\n')) if (line.trim()) log(`  ${line.trim()}`);
  };
  child.stdout.on('data', onOutput);
  child.stderr.on('data', onOutput);
  const ticker = setInterval(() => log(`governor: still building Temporal CLI (${Math.round((Date.now() - started) / 1000)}s)`), 15_000);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', resolve);
  }).finally(() => clearInterval(ticker));
  if (code !== 0) {
    await rm(staging, { recursive: true, force: true });
    throw new Error(`building the Temporal CLI failed (go install exited ${code}):\n${tail}`);
  }
  await rename(join(staging, 'temporal'), join(dir, 'temporal'));
  await rm(staging, { recursive: true, force: true });
  const seconds = Math.round((Date.now() - started) / 1000);
  log(`governor: Temporal CLI ${TEMPORAL_CLI_VERSION} built in ${seconds}s`);
  return seconds;
}
