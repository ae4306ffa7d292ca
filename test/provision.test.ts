import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort, startDevServer } from '../workers/dev-server.js';
import { cacheDir, provisionTemporalCli, TEMPORAL_CLI_VERSION } from '../workers/temporal-cli.js';

describe('Temporal CLI provisioning order: TEMPORAL_CLI, PATH, cache, build', () => {
  let real: string;
  let dir: string;
  before(async () => {
    real = (await provisionTemporalCli({ log: () => undefined })).path;
    dir = await mkdtemp(join(tmpdir(), 'governor-provision-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('TEMPORAL_CLI wins, and a bad one is a clear error', async () => {
    const found = await provisionTemporalCli({ env: { TEMPORAL_CLI: real, PATH: '' } });
    assert.deepEqual(found, { path: real, source: 'TEMPORAL_CLI' });
    await assert.rejects(provisionTemporalCli({ env: { TEMPORAL_CLI: join(dir, 'nope'), PATH: '' } }), /TEMPORAL_CLI=.*nope is not an executable file/);
  });

  it('then `temporal` on PATH', async () => {
    const bin = join(dir, 'bin');
    await mkdir(bin);
    await symlink(real, join(bin, 'temporal'));
    const found = await provisionTemporalCli({ env: { PATH: bin, GOVERNOR_CACHE_DIR: join(dir, 'empty-cache') } });
    assert.deepEqual(found, { path: join(bin, 'temporal'), source: 'PATH' });
  });

  it('then the per-user cache, keyed by the pinned version', async () => {
    const env = { PATH: '', GOVERNOR_CACHE_DIR: join(dir, 'cache') };
    assert.equal(cacheDir(env), join(dir, 'cache', 'temporal-cli', TEMPORAL_CLI_VERSION));
    await mkdir(cacheDir(env), { recursive: true });
    await symlink(real, join(cacheDir(env), 'temporal'));
    assert.deepEqual(await provisionTemporalCli({ env }), { path: join(cacheDir(env), 'temporal'), source: 'cache' });
  });

  it('a failing build reports the go output and leaves no binary behind', async () => {
    const bin = join(dir, 'fakego');
    await mkdir(bin);
    // A `go` that answers `go version` but fails to build, as a broken toolchain or an unreachable proxy would.
    await writeFile(join(bin, 'go'), '#!/bin/sh\nif [ "$1" = version ]; then echo go version go1.0; exit 0; fi\necho "proxy unreachable" >&2; exit 1\n');
    await chmod(join(bin, 'go'), 0o755);
    const env = { PATH: bin, GOVERNOR_CACHE_DIR: join(dir, 'cache-fail') };
    const lines: string[] = [];
    await assert.rejects(provisionTemporalCli({ env, log: (l) => lines.push(l) }), /go install exited 1[\s\S]*proxy unreachable/);
    assert.match(lines.join('\n'), /building Temporal CLI v1\.5\.1 from the Go module proxy/);
    await assert.rejects(provisionTemporalCli({ env: { PATH: '', GOVERNOR_CACHE_DIR: join(dir, 'cache-fail') } }), /Go is not available/);
  });
});

describe('Dev server start: a port taken before the server binds it', () => {
  /** A listener that holds a loopback port and never answers (closing it drops what it accepted). */
  async function holdPort(): Promise<{ port: number; close: () => Promise<void> }> {
    const sockets = new Set<Socket>();
    const server = createServer((socket) => void sockets.add(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    return {
      port,
      close: () =>
        new Promise((resolve) => {
          server.close(() => resolve());
          for (const socket of sockets) socket.destroy();
        }),
    };
  }

  it('starts again on ports found afresh', async () => {
    const held = await holdPort();
    // The first port handed out is the held one, as when another process binds it between the look-up and the start.
    let calls = 0;
    const server = await startDevServer({ freePort: async () => (calls++ === 0 ? held.port : freePort()), startTimeoutMs: 30_000 });
    try {
      assert.notEqual(server.address, `127.0.0.1:${held.port}`);
      assert.ok(calls > 3, `ports were looked up again (${calls})`);
    } finally {
      await server.stop();
      await held.close();
    }
  });

  it('a port the options fix and something else holds is a clear error, not a hang', async () => {
    const held = await holdPort();
    try {
      await assert.rejects(startDevServer({ port: held.port, startTimeoutMs: 30_000 }), /exited with .*\n[\s\S]*address already in use/);
    } finally {
      await held.close();
    }
  });
});
