import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MAJORS = ['22', '24'] as const;
const STEPS = ['lint', 'typecheck', 'demo'] as const;

/** Per-step and per-install limits handed to the script: together well inside the test's own limit. */
const STEP_SECONDS = 300;
const PROVISION_SECONDS = 300;
const TEST_MS = (STEPS.length * STEP_SECONDS * MAJORS.length + PROVISION_SECONDS * MAJORS.length + 300) * 1000;

/** Runs the smoke script, streaming its output to stderr as it comes (it takes minutes) and keeping it for the assertions. */
function runSmoke(signal: AbortSignal): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [`${ROOT}/scripts/node-smoke.sh`, ...MAJORS], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, GOVERNOR_SMOKE_STEP_TIMEOUT: String(STEP_SECONDS), GOVERNOR_SMOKE_PROVISION_TIMEOUT: String(PROVISION_SECONDS) },
      // On abort the script gets SIGTERM, stops the running step and everything it started, and exits.
      signal,
      killSignal: 'SIGTERM',
    });
    let output = '';
    const collect = (chunk: Buffer): void => {
      output += chunk.toString('utf8');
      process.stderr.write(chunk);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', (err) => (err.name === 'AbortError' ? undefined : reject(err)));
    child.on('close', (code) => resolve({ code, output }));
  });
}

describe('Node-version smoke run: scripts/node-smoke.sh', () => {
  it(`lint, typecheck and the demo pass on Node ${MAJORS.join(' and ')}, each run by that Node`, { timeout: TEST_MS }, async (t) => {
    const { code, output } = await runSmoke(t.signal);
    const summary = output.slice(output.lastIndexOf('[node-smoke] summary:'));
    assert.equal(code, 0, `node-smoke exited ${code}\n${summary}`);
    for (const major of MAJORS) {
      // Each step checks from inside npm which node its scripts run: it must be the provisioned major, not this one.
      const ran = [...output.matchAll(new RegExp(`^\\[node-smoke\\] node ${major}: npm \\S+ on (v\\S+); npm scripts run node (v\\S+) at `, 'gm'))];
      assert.equal(ran.length, STEPS.length, `every step reports its node for Node ${major}`);
      for (const [, npmNode, scriptNode] of ran) {
        assert.ok(npmNode!.startsWith(`v${major}.`) && scriptNode!.startsWith(`v${major}.`), `Node ${major} steps ran npm on ${npmNode}, scripts on ${scriptNode}`);
      }
      for (const step of STEPS) assert.match(output, new RegExp(`^\\[node-smoke\\] node ${major}: ${step}: PASS`, 'm'));
    }
  });
});
