import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, stat, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { searchAttributeKeys } from 'governor/workflow';
import { freePort } from 'governor/testing';
import { supportSearchAttributes } from '../examples/support/definitions.js';
import { loadCompose, type ComposeProject } from './helpers/compose.js';
import { eventually, startHarness, ticketEvent, type Harness } from './helpers/harness.js';
import { promtool } from './helpers/prometheus.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** What an operator puts in .env (deploy/env.example): the loader refuses the file without the codec settings. */
const ENV = { GOVERNOR_CODEC_KEYS: `k1:${Buffer.alloc(32, 7).toString('base64')}`, GOVERNOR_CODEC_TOKEN: 'a-long-enough-codec-token', GOVERNOR_CONSOLE_SECRET: 'a-console-secret-of-at-least-32-characters' };

/** No Docker engine runs here: the compose file is loaded by compose-go (Docker Compose v2's loader), not run. */
describe('docker-compose.yml, as Docker Compose loads it', () => {
  let project: ComposeProject;
  before(async () => {
    const loaded = await loadCompose('docker-compose.yml', ENV);
    assert.ok(loaded.ok, loaded.ok ? '' : loaded.error);
    project = loaded.project;
  });

  it('is a valid Compose project: Temporal on PostgreSQL, UI, store, workers, Prometheus, Grafana, a collector', () => {
    const s = project.services;
    assert.equal(project.name, 'governor');
    assert.deepEqual(Object.keys(s).sort(), ['governor-db', 'grafana', 'otel-collector', 'postgresql', 'prometheus', 'temporal', 'temporal-schema', 'temporal-setup', 'temporal-ui', 'worker']);
    // Temporal's schema by its own SQL tool, on PostgreSQL, before the server starts.
    assert.equal(s.temporal?.environment?.DB, 'postgres12');
    assert.deepEqual(s.temporal?.depends_on?.['temporal-schema']?.condition, 'service_completed_successfully');
    assert.match(s['temporal-schema']?.command?.join(' ') ?? '', /temporal-sql-tool --db "\$db" (create-database|update-schema|setup-schema)/);
    // Published on loopback only.
    for (const [name, service] of Object.entries(s)) for (const port of service.ports ?? []) assert.equal(port.host_ip, '127.0.0.1', `${name} publishes ${port.target} beyond loopback`);
  });

  it('workers: the built image, healthcheck, graceful stop, metrics reachable, traces, SLOs, codec', () => {
    const w = project.services.worker!;
    assert.equal(w.build?.dockerfile, 'Dockerfile');
    assert.deepEqual(w.healthcheck?.test.slice(0, 3), ['CMD', 'node', '-e']);
    assert.match(w.healthcheck!.test[3]!, /\/healthz/);
    assert.equal(w.init, true);
    assert.equal(w.stop_signal, 'SIGTERM');
    assert.equal(w.stop_grace_period, '1m0s');
    const env = w.environment ?? {};
    assert.equal(env.GOVERNOR_METRICS_HOST, '0.0.0.0', 'metrics reachable from outside the container');
    assert.equal(env.GOVERNOR_PROMETHEUS_URL, 'http://prometheus:9090');
    assert.equal(env.OTEL_EXPORTER_OTLP_ENDPOINT, 'http://otel-collector:4318');
    assert.match(env.DATABASE_URL ?? '', /^postgres:\/\/governor:[^@]+@governor-db:5432\/governor$/);
    for (const name of ['ANTHROPIC_API_KEY', 'OPENAI_API_KEY', 'TEMPORAL_ADDRESS', 'GOVERNOR_CODEC_KEYS', 'GOVERNOR_CODEC_TOKEN']) assert.ok(name in env, `worker gets ${name}`);
    assert.deepEqual(w.depends_on?.['temporal-setup']?.condition, 'service_completed_successfully');
    // The Web UI decodes through the worker's codec server, with the signed-in person's cookie.
    const ui = project.services['temporal-ui']!.environment ?? {};
    assert.equal(ui.TEMPORAL_CODEC_ENDPOINT, `http://127.0.0.1:${env.GOVERNOR_CODEC_PORT}`);
    assert.equal(ui.TEMPORAL_CODEC_INCLUDE_CREDENTIALS, 'true');
    assert.ok((env.GOVERNOR_CODEC_CORS ?? '').split(',').includes('http://127.0.0.1:8080'));
    // The reviewer console: served by the worker, published on loopback, linking runs to the Web UI.
    assert.equal(env.GOVERNOR_CONSOLE_HOST, '0.0.0.0');
    assert.ok(w.ports?.some((p) => String(p.target) === env.GOVERNOR_CONSOLE_PORT && p.host_ip === '127.0.0.1'), 'the console port is published on loopback');
    assert.equal(env.GOVERNOR_TEMPORAL_UI_URL, 'http://127.0.0.1:8080');
  });

  it('refuses to load without the console secret, naming the variable', async () => {
    const loaded = await loadCompose('docker-compose.yml', { GOVERNOR_CODEC_KEYS: ENV.GOVERNOR_CODEC_KEYS, GOVERNOR_CODEC_TOKEN: ENV.GOVERNOR_CODEC_TOKEN });
    assert.equal(loaded.ok, false);
    assert.match(loaded.ok ? '' : loaded.error, /required variable GOVERNOR_CONSOLE_SECRET is missing a value/);
  });

  it('refuses to load without the payload keys, naming the variable', async () => {
    const loaded = await loadCompose('docker-compose.yml', { GOVERNOR_CODEC_TOKEN: ENV.GOVERNOR_CODEC_TOKEN });
    assert.equal(loaded.ok, false);
    assert.match(loaded.ok ? '' : loaded.error, /required variable GOVERNOR_CODEC_KEYS is missing a value/);
  });

  it('mounts files that exist: Prometheus config and SLO rules (promtool accepts them), Grafana, the collector', async () => {
    for (const [name, service] of Object.entries(project.services)) {
      for (const v of service.volumes ?? []) if (v.type === 'bind') await stat(v.source).catch(() => assert.fail(`${name} mounts missing ${v.source}`));
    }
    const checked = promtool(['check', 'config', join(ROOT, 'deploy/prometheus/prometheus.yml')]);
    assert.equal(checked.code, 0, checked.output);
    assert.match(checked.output, /SUCCESS: \d+ rules found/);
    const collector = parse(await readFile(join(ROOT, 'deploy/otel-collector.yaml'), 'utf8')) as {
      receivers: Record<string, unknown>;
      exporters: Record<string, unknown>;
      processors: Record<string, unknown>;
      service: { pipelines: Record<string, { receivers: string[]; processors: string[]; exporters: string[] }> };
    };
    const traces = collector.service.pipelines.traces!;
    for (const r of traces.receivers) assert.ok(r in collector.receivers);
    for (const p of traces.processors) assert.ok(p in collector.processors);
    for (const e of traces.exporters) assert.ok(e in collector.exporters);
  });

  it('registers exactly the search attributes the workflows set, failing loudly', () => {
    const script = project.services['temporal-setup']?.command?.join(' ') ?? '';
    assert.match(script, /^set -eu;/);
    assert.ok(!/\|\| true/.test(script), 'no registration error is swallowed');
    const registered = [...script.matchAll(/(Governor\w+)=(\w+)/g)].map((m) => `${m[1]}=${m[2]}`).sort();
    const expected = searchAttributeKeys(Object.values(supportSearchAttributes)).map((k) => `${k.name}=${k.type === 'BOOL' ? 'Bool' : 'Keyword'}`).sort();
    assert.deepEqual(registered, expected);
  });
});

/** The worker image's two stages, played on this machine: the build stage's files and command, then its CMD. */
describe('the worker image: compiled JS on Node 22, non-root, healthy, stops gracefully', () => {
  let h: Harness;
  let dir: string;
  let dockerfile: string;
  before(async () => {
    dockerfile = await readFile(join(ROOT, 'Dockerfile'), 'utf8');
    dir = await mkdtemp(join(tmpdir(), 'governor-image-'));
    h = await startHarness({ worker: false });
  });
  after(async () => {
    await h?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('the Dockerfile runs compiled JS on Node 22 or 24 as the node user', () => {
    const stages = dockerfile.split(/^FROM /m).slice(1);
    assert.equal(stages.length, 2);
    for (const stage of stages) assert.match(stage, /^node:(22|24)-/);
    const final = stages[1]!;
    assert.match(final, /^USER node$/m);
    assert.match(final, /^CMD \["node", "build\/examples\/support\/worker\.js"\]$/m);
    assert.ok(!/tsx/.test(final), 'no TypeScript loader at run time');
    assert.match(final, /npm ci --omit=dev/);
    assert.match(final, /^HEALTHCHECK /m);
  });

  it('built as the image builds it, the worker runs a triage, reports healthy, and drains on SIGTERM', async () => {
    const build = dockerfile.split(/^FROM /m)[1]!;
    // The build stage's COPY lines are the whole build context the image sees.
    for (const m of build.matchAll(/^COPY (.+) \.\/?\S*$/gm)) for (const path of m[1]!.split(' ')) await cp(join(ROOT, path), join(dir, path), { recursive: true });
    await symlink(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
    const run = /^RUN (npm run build:image)$/m.exec(build)?.[1];
    assert.ok(run, 'the build stage compiles with npm run build:image');
    const compiled = spawnSync('npm', ['run', '--silent', 'build:image'], { cwd: dir, encoding: 'utf8', timeout: 300_000 });
    assert.equal(compiled.status, 0, compiled.stderr + compiled.stdout);
    for (const m of dockerfile.matchAll(/^COPY --from=build \/app\/(\S+) /gm)) await stat(join(dir, m[1]!));

    const port = await freePort();
    const consolePort = await freePort();
    const env = {
      ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('GOVERNOR_'))),
      NODE_ENV: 'production',
      TEMPORAL_ADDRESS: h.server.address,
      ANTHROPIC_API_KEY: 'test-key',
      ANTHROPIC_BASE_URL: h.double.anthropicBaseURL,
      OPENAI_API_KEY: '',
      DATABASE_URL: '',
      GOVERNOR_DATA_DIR: join(dir, 'data', 'pgdata'),
      GOVERNOR_METRICS_PORT: String(port),
      GOVERNOR_LOG_LEVEL: 'WARN',
      GOVERNOR_CONSOLE_SECRET: ENV.GOVERNOR_CONSOLE_SECRET,
      GOVERNOR_CONSOLE_PORT: String(consolePort),
    };
    const worker = spawn(process.execPath, ['build/examples/support/worker.js'], { cwd: dir, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    worker.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) => worker.once('exit', (code) => resolve(code)));
    try {
      await eventually('the compiled worker to poll', async () => {
        if (worker.exitCode !== null) throw new Error(`the worker exited: ${stderr}`);
        return stderr.includes('polling on') ? true : undefined;
      }, 120_000);
      assert.match(stderr, /workflow bundle prebuilt/, 'the worker loads the bundle written at build time, no webpack at start');
      const started = await h.client.startTriage(ticketEvent());
      assert.equal((await h.client.triageResult(started.workflowId)).outcome, 'escalated');
      // The compiled reviewer console serves its sign-in page and its built page assets.
      const consoleUrl = `http://127.0.0.1:${consolePort}`;
      assert.equal((await fetch(`${consoleUrl}/login`)).status, 200);
      const app = await fetch(`${consoleUrl}/assets/app.js`);
      assert.equal(app.status, 200);
      assert.ok((await app.text()).length > 1000, 'the bundled page');

      // The image's HEALTHCHECK, as Docker runs it inside the container.
      const check = JSON.parse(/^\s*CMD (\[.*\])$/m.exec(dockerfile.split(/^HEALTHCHECK /m)[1]!)![1]!) as string[];
      assert.equal(check[0], 'node');
      const healthy = spawnSync(process.execPath, check.slice(1), { env, encoding: 'utf8', timeout: 15_000 });
      assert.equal(healthy.status, 0, healthy.stderr);

      worker.kill('SIGTERM');
      assert.equal(await Promise.race([exited, new Promise((r) => setTimeout(() => r('still running'), 60_000))]), 0, `a graceful exit: ${stderr}`);
      const stopped = spawnSync(process.execPath, check.slice(1), { env, encoding: 'utf8', timeout: 15_000 });
      assert.equal(stopped.status, 1, 'unhealthy once stopped');
    } finally {
      if (worker.exitCode === null) worker.kill('SIGKILL');
    }
  });
});

describe('deploy/env.example', () => {
  it('lists every variable docker-compose.yml reads from the environment', async () => {
    const compose = await readFile(join(ROOT, 'docker-compose.yml'), 'utf8');
    const used = new Set([...compose.matchAll(/\$\{([A-Z_]+)[:?}-]/g)].map((m) => m[1]!));
    const example = await readFile(join(ROOT, 'deploy/env.example'), 'utf8');
    const listed = new Set([...example.matchAll(/^([A-Z_]+)=/gm)].map((m) => m[1]!));
    for (const name of used) assert.ok(listed.has(name), `${name} is missing from deploy/env.example`);
  });
});
