import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const exec = promisify(execFile);
const npm = (args: string[], cwd: string) => exec('npm', args, { cwd, maxBuffer: 64 * 1024 * 1024, timeout: 600_000, env: { ...process.env, npm_config_update_notifier: 'false' } });

/** The version this repository installed of a dependency: the adopter's project pins the same, as a lockfile would. */
async function installed(name: string): Promise<string> {
  return (JSON.parse(await readFile(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
}

describe('the npm package, installed into a project of its own', () => {
  let work: string;
  let project: string;
  let tarball: string;
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'governor-package-'));
    project = join(work, 'credits');
    // `npm pack` runs `prepack` (the build): what a publish would ship.
    const packed = await npm(['pack', '--json', '--pack-destination', work], ROOT);
    const [info] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as Array<{ filename: string; files: Array<{ path: string }> }>;
    tarball = join(work, info!.filename);

    // A fresh project outside the repository, with the credits example as its source and only public imports.
    await cp(join(ROOT, 'examples', 'credits'), join(project, 'src'), { recursive: true });
    await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'credits', private: true, type: 'module' }, null, 2));
    await writeFile(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, outDir: 'dist', rootDir: 'src', types: ['node'], skipLibCheck: true },
        include: ['src'],
      }),
    );
    const deps = await Promise.all(['zod', '@temporalio/workflow', 'typescript', '@types/node'].map(async (d) => `${d}@${await installed(d)}`));
    await npm(['install', '--no-audit', '--no-fund', '--prefer-offline', tarball, ...deps], project);
  });
  after(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('ships compiled JavaScript, types and the CLI, and none of the repository\'s tests or examples', async () => {
    const pkg = join(project, 'node_modules', 'governor');
    const manifest = JSON.parse(await readFile(join(pkg, 'package.json'), 'utf8')) as { exports: Record<string, { types: string; default: string }>; bin: Record<string, string> };
    for (const entry of ['.', './workflow', './worker', './client', './console', './testing']) {
      const target = manifest.exports[entry]!;
      await readFile(join(pkg, target.default));
      await readFile(join(pkg, target.types));
    }
    const top = await readdir(pkg);
    for (const absent of ['test', 'examples', 'scripts', 'bench', 'node_modules']) assert.ok(!top.includes(absent), `${absent}/ is in the package`);
    assert.ok(manifest.bin.governor);
    // The reviewer console's page, built by the package's build (no CDN, nothing fetched at run time).
    for (const asset of ['app.js', 'console.css']) assert.ok((await readFile(join(pkg, 'dist/console/bundle', asset), 'utf8')).length > 100, asset);
    assert.ok(!top.includes('console'), 'the page source stays in the repository');
  });

  it('the example type-checks and builds against the installed types', async () => {
    const tsc = await exec(process.execPath, [join(project, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project], { cwd: project }).catch((e: { stdout: string; stderr: string }) => e);
    assert.equal('code' in tsc ? tsc.code : 0, 0, `${tsc.stdout}${tsc.stderr}`);
  });

  it('runs on a real dev server against the model double and its own provider: review queue, approval, tool, evidence', async () => {
    const { stdout } = await exec(process.execPath, [join(project, 'dist', 'run.js')], { cwd: project, timeout: 300_000 });
    const report = JSON.parse(stdout.trim().split('\n').pop()!) as {
      queued: { phase: string; type: string };
      refused: string;
      accepted: string;
      outcome: string;
      evidence: Array<{ tool: string; status: string; permission: string; approver: string | null; receiptId: string | null }>;
      credits: number;
      chainProblems: number;
      houseRules: { outcome: string; amountCents: number | null };
    };
    assert.deepEqual(report.queued, { phase: 'awaiting_approval', type: 'creditRequest' });
    assert.equal(report.refused, 'not_authorised', 'someone the policy does not name cannot approve');
    assert.equal(report.accepted, 'accepted');
    assert.equal(report.outcome, 'credited');
    assert.deepEqual(report.evidence, [{ tool: 'issue_credit', status: 'success', permission: 'approved', approver: 'usr_ops', receiptId: 'cr_1' }]);
    assert.equal(report.credits, 1);
    assert.equal(report.chainProblems, 0);
    assert.deepEqual(report.houseRules, { outcome: 'credited', amountCents: 500 }, "the project's own provider answered the second run");
  });

  it('the installed `governor` command lists the project\'s workflows and refuses a bad event before connecting', async () => {
    const bin = join(project, 'node_modules', '.bin', 'governor');
    const listed = await exec(bin, ['--workflows', 'dist/credit-request.js', 'workflows'], { cwd: project });
    assert.match(listed.stdout, /creditRequest\n.*\n\s+trigger: credit\.requested\n\s+decisions: approve/);
    await writeFile(join(project, 'bad.json'), JSON.stringify({ event: 'credit.requested', event_id: 'evt_1', customer_id: 'nobody', message: 'hi' }));
    const bad = await exec(bin, ['--workflows', 'dist/credit-request.js', 'start', 'bad.json'], { cwd: project, env: { ...process.env, TEMPORAL_ADDRESS: '127.0.0.1:1' } }).catch(
      (e: { code: number; stderr: string }) => e,
    );
    assert.equal((bad as { code: number }).code, 2);
    assert.match((bad as { stderr: string }).stderr, /invalid trigger; nothing was started:\n\s+customer_id: /);
  });
});
