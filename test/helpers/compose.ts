import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { access, mkdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TOOL = join(ROOT, 'tools/compose-check');

/**
 * compose-go (the loader Docker Compose v2 is built on), as `tools/compose-check`: built from the Go module proxy once
 * per version of its sources and cached per user, like the Temporal CLI.
 */
export async function composeCheckBinary(): Promise<string> {
  const hash = createHash('sha256');
  for (const f of ['go.mod', 'go.sum', 'main.go']) hash.update(await readFile(join(TOOL, f)));
  const base = process.env.GOVERNOR_CACHE_DIR || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'governor');
  const bin = join(base, `compose-check-${hash.digest('hex').slice(0, 12)}`);
  try {
    await access(bin);
    return bin;
  } catch {
    await mkdir(base, { recursive: true });
    const built = spawnSync('go', ['build', '-o', bin, '.'], { cwd: TOOL, encoding: 'utf8', timeout: 600_000 });
    if (built.status !== 0) throw new Error(`building tools/compose-check failed: ${built.error?.message ?? ''}${built.stderr}`);
    return bin;
  }
}

/** Loads a compose file with compose-go: the resolved project, or the loader's error. */
export async function loadCompose(file: string, env: Record<string, string>): Promise<{ ok: true; project: ComposeProject } | { ok: false; error: string }> {
  const bin = await composeCheckBinary();
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('GOVERNOR_') && !k.startsWith('COMPOSE_')));
  const r = spawnSync(bin, [file], { cwd: ROOT, env: { ...clean, ...env }, encoding: 'utf8' });
  return r.status === 0 ? { ok: true, project: JSON.parse(r.stdout) as ComposeProject } : { ok: false, error: r.stderr };
}

export interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  environment?: Record<string, string | null>;
  ports?: Array<{ host_ip?: string; target: number; published?: string }>;
  command?: string[] | null;
  entrypoint?: string[] | null;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[]; interval?: string; start_period?: string };
  volumes?: Array<{ type: string; source: string; target: string; read_only?: boolean }>;
  init?: boolean;
  stop_grace_period?: string;
  stop_signal?: string;
  user?: string;
}

export interface ComposeProject {
  name: string;
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}
