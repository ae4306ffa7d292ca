import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { parse } from 'yaml';
import { searchAttributeKeys } from 'governor/workflow';
import { supportSearchAttributes } from '../examples/support/definitions.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

interface Service {
  image?: string;
  build?: unknown;
  environment?: Record<string, string>;
  ports?: string[];
  command?: string[];
  depends_on?: Record<string, { condition: string }> | string[];
}

/** No Docker engine runs here, so the compose file is checked by validating it, not by running it. */
describe('docker-compose.yml and the worker image', () => {
  it('defines Temporal on PostgreSQL, the Web UI and the worker, published on loopback only', async () => {
    const compose = parse(await readFile(`${ROOT}/docker-compose.yml`, 'utf8')) as { services: Record<string, Service> };
    const s = compose.services;
    assert.deepEqual(Object.keys(s).sort(), ['governor-db', 'postgresql', 'temporal', 'temporal-setup', 'temporal-ui', 'worker']);
    assert.equal(s.temporal?.environment?.DB, 'postgres12');
    assert.equal(s.temporal?.environment?.POSTGRES_SEEDS, 'postgresql');
    for (const service of Object.values(s)) for (const port of service.ports ?? []) assert.match(port, /^127\.0\.0\.1:/);
    for (const name of ['ANTHROPIC_API_KEY', 'ANTHROPIC_BASE_URL', 'OPENAI_API_KEY', 'OPENAI_BASE_URL', 'TEMPORAL_ADDRESS']) {
      assert.ok(name in (s.worker?.environment ?? {}), `worker gets ${name}`);
    }
    assert.deepEqual(s.worker?.depends_on, { 'temporal-setup': { condition: 'service_completed_successfully' }, 'governor-db': { condition: 'service_healthy' } });
    // The evidence store is PostgreSQL in production: the worker's DATABASE_URL names the governor-db service.
    assert.match(s.worker?.environment?.DATABASE_URL ?? '', /^postgres:\/\/governor:[^@]+@governor-db:5432\/governor$/);
    for (const [name, service] of Object.entries(s)) {
      for (const dep of Object.keys(service.depends_on ?? {})) assert.ok(Array.isArray(service.depends_on) || dep in s, `${name} depends on unknown ${dep}`);
    }
  });

  it('registers exactly the search attributes the workflows set', async () => {
    const compose = parse(await readFile(`${ROOT}/docker-compose.yml`, 'utf8')) as { services: Record<string, Service> };
    const script = compose.services['temporal-setup']?.command?.join(' ') ?? '';
    const registered = [...script.matchAll(/(Governor\w+)=(\w+)/g)].map((m) => `${m[1]}=${m[2]}`).sort();
    const expected = searchAttributeKeys(Object.values(supportSearchAttributes)).map((k) => `${k.name}=${k.type === 'BOOL' ? 'Bool' : 'Keyword'}`).sort();
    assert.deepEqual(registered, expected);
  });

  it('the worker image holds everything the worker imports, and nothing from test/', async () => {
    const dockerfile = await readFile(`${ROOT}/Dockerfile`, 'utf8');
    const copied = [...dockerfile.matchAll(/^COPY (\S+) \.\/\S*$/gm)].map((m) => m[1]!);
    const result = await build({
      entryPoints: [`${ROOT}/examples/support/worker.ts`],
      bundle: true,
      platform: 'node',
      format: 'esm',
      packages: 'external',
      write: false,
      metafile: true,
      logLevel: 'silent',
      absWorkingDir: ROOT,
    });
    const inputs = Object.keys(result.metafile.inputs);
    assert.ok(inputs.length > 5);
    for (const input of inputs) {
      const top = input.split('/')[0]!;
      assert.notEqual(top, 'test', `the worker imports ${input}`);
      assert.ok(copied.includes(top), `${input} is not copied into the image`);
    }
    for (const dir of copied) await stat(`${ROOT}/${dir}`);
  });
});
