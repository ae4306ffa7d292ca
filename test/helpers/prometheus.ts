import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from 'governor/testing';
import { stringify } from 'yaml';
import { eventually } from './harness.js';

/** Debian's `prometheus` package (which also brings `promtool`); `.ci/run` installs it. */
export const PROMETHEUS_BIN = process.env.GOVERNOR_PROMETHEUS_BIN ?? '/usr/bin/prometheus';
export const PROMTOOL_BIN = process.env.GOVERNOR_PROMTOOL_BIN ?? '/usr/bin/promtool';

/** `promtool check <what> <file>`: its exit code and what it said. */
export function promtool(args: string[]): { code: number | null; output: string } {
  const r = spawnSync(PROMTOOL_BIN, args, { encoding: 'utf8' });
  if (r.error) throw new Error(`promtool is not installed at ${PROMTOOL_BIN} (Debian's prometheus package): ${r.error.message}`);
  return { code: r.status, output: `${r.stdout}${r.stderr}` };
}

export interface Prometheus {
  readonly url: string;
  query(q: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>>;
  stop(): Promise<void>;
}

/**
 * A real Prometheus server on loopback, scraping `targets` (host:port) every second and evaluating `rules` (a rule
 * file's object) every second; its data lives in a temp directory removed by `stop()`.
 */
export async function startPrometheus(options: { targets: string[]; rules?: object }): Promise<Prometheus> {
  const dir = await mkdtemp(join(tmpdir(), 'governor-prometheus-'));
  const port = await freePort();
  const config: Record<string, unknown> = {
    global: { scrape_interval: '1s', evaluation_interval: '1s' },
    scrape_configs: [{ job_name: 'governor-worker', static_configs: [{ targets: options.targets }] }],
  };
  if (options.rules) {
    await writeFile(join(dir, 'rules.yml'), stringify(options.rules));
    config.rule_files = [join(dir, 'rules.yml')];
  }
  await writeFile(join(dir, 'prometheus.yml'), stringify(config));
  const child: ChildProcess = spawn(
    PROMETHEUS_BIN,
    [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr!.on('data', (c: Buffer) => (log = (log + c.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  try {
    await eventually(
      'Prometheus to be ready',
      async () => {
        if (child.exitCode !== null) throw new Error(`prometheus exited (${child.exitCode}): ${log}`);
        const res = await fetch(`${url}/-/ready`).catch(() => null);
        return res?.ok ? true : undefined;
      },
      30_000,
    );
  } catch (err) {
    child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    url,
    async query(q) {
      const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(q)}`);
      const body = (await res.json()) as { data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } };
      return body.data.result;
    },
    async stop() {
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    },
  };
}
