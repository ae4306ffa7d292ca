import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, type Server as NetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createServer as createTlsServer } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { temporalConnectionConfig } from 'governor/worker';
import { startHarness, ticketEvent, type Harness } from './helpers/harness.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const exec = promisify(execFile);

function cli(args: string[], env: NodeJS.ProcessEnv, input = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    // Only what the test sets: no TEMPORAL_* from the machine's environment.
    const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TEMPORAL_')));
    const child = spawn(process.execPath, ['--import', 'tsx', 'examples/support/cli.ts', ...args], { cwd: ROOT, env: { ...base, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

describe("connections from Temporal's own environment configuration", () => {
  let h: Harness;
  let dir: string;
  let proxy: NetServer;
  let proxyAddress: string;
  before(async () => {
    h = await startHarness();
    dir = await mkdtemp(join(tmpdir(), 'governor-conn-'));
    // A CA and a server certificate for 127.0.0.1, made with openssl, and a TLS-terminating proxy in front of the
    // dev server (HTTP/2 over TLS in, the same frames in clear to the server): what a TLS endpoint looks like.
    const ssl = (...args: string[]) => exec('openssl', args, { cwd: dir });
    await ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=governor test CA', '-keyout', 'ca.key', '-out', 'ca.pem');
    await ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', 'server.key', '-out', 'server.csr');
    await writeFile(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n');
    await ssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1', '-extfile', 'san.ext', '-out', 'server.pem');
    const [host, port] = h.server.address.split(':') as [string, string];
    proxy = createTlsServer({ key: await readFile(join(dir, 'server.key')), cert: await readFile(join(dir, 'server.pem')), ALPNProtocols: ['h2'] }, (tlsSocket) => {
      const upstream = connect(Number(port), host);
      tlsSocket.pipe(upstream).pipe(tlsSocket);
      const end = () => {
        tlsSocket.destroy();
        upstream.destroy();
      };
      tlsSocket.on('error', end);
      upstream.on('error', end);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', () => resolve()));
    const a = proxy.address() as { port: number };
    proxyAddress = `127.0.0.1:${a.port}`;
  });
  after(async () => {
    await new Promise<void>((resolve) => (proxy ? proxy.close(() => resolve()) : resolve()));
    await h?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('a profile from the config file is loaded, and TEMPORAL_* variables override it', async () => {
    const file = join(dir, 'temporal.toml');
    await writeFile(file, `[profile.staging]\naddress = "${h.server.address}"\nnamespace = "default"\napi_key = "k-staging"\n\n[profile.default]\naddress = "127.0.0.1:1"\n`);
    const staging = temporalConnectionConfig({ env: { TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'staging' } });
    assert.deepEqual([staging.address, staging.namespace, staging.apiKey], [h.server.address, 'default', 'k-staging']);
    assert.equal(temporalConnectionConfig({ env: { TEMPORAL_CONFIG_FILE: file } }).address, '127.0.0.1:1', 'the default profile without TEMPORAL_PROFILE');
    assert.equal(temporalConnectionConfig({ env: { TEMPORAL_CONFIG_FILE: file, TEMPORAL_ADDRESS: '10.0.0.1:7233' } }).address, '10.0.0.1:7233');
    assert.deepEqual(temporalConnectionConfig({ env: {} }), { address: '127.0.0.1:7233', namespace: 'default' });

    // The CLI uses the profile: no TEMPORAL_ADDRESS, and it reaches the harness's server.
    await writeFile(file, `[profile.staging]\naddress = "${h.server.address}"\nnamespace = "default"\n`);
    const listed = await cli(['pending'], { TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'staging' });
    assert.equal(listed.code, 0, listed.stderr);
  });

  it('a run started over TLS, trusting the server through TEMPORAL_TLS_SERVER_CA_CERT_PATH', async () => {
    const tls = { TEMPORAL_ADDRESS: proxyAddress, TEMPORAL_TLS: 'true', TEMPORAL_TLS_SERVER_CA_CERT_PATH: join(dir, 'ca.pem') };
    const started = await cli(['start', '-', '--wait', '--json'], tls, JSON.stringify(ticketEvent()));
    assert.equal(started.code, 0, started.stderr);
    const { workflowId } = JSON.parse(started.stdout) as { workflowId: string };
    assert.equal((await h.client.triageResult(workflowId)).workflowId, workflowId);

    // Without the CA the server's certificate is not trusted: nothing is started.
    const untrusted = await cli(['pending'], { TEMPORAL_ADDRESS: proxyAddress, TEMPORAL_TLS: 'true' });
    assert.equal(untrusted.code, 1);
    assert.match(untrusted.stderr, /cannot reach Temporal at 127\.0\.0\.1:\d+/);
  });
});
