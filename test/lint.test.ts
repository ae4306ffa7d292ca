import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

describe('static checks', () => {
  const eslint = new ESLint({ cwd: ROOT });

  it('eslint passes on the whole project', async () => {
    const results = await eslint.lintFiles(['.']);
    const problems = results.flatMap((r) => r.messages.map((m) => `${r.filePath}:${m.line} ${m.ruleId}: ${m.message}`));
    assert.deepEqual(problems, []);
  });

  it('the workflow sandbox rules reject I/O, env, clocks, randomness and activity imports in workflow code', async () => {
    const filePath = `${ROOT}/examples/support/workflows/triage.ts`;
    const original = await readFile(filePath, 'utf8');
    const violations = [
      `import { readFileSync } from 'node:fs';\nexport const a = readFileSync;`,
      `import { readFileSync } from 'fs';\nexport const a = readFileSync;`,
      `import { Context } from '@temporalio/activity';\nexport const a = Context;`,
      `import Anthropic from '@anthropic-ai/sdk';\nexport const a = Anthropic;`,
      `import { createActivities } from 'governor/worker';\nexport const a = createActivities;`,
      `export const a = process.env.HOME;`,
      `export const a = Date.now();`,
      `export const a = Math.random();`,
      `export const a = setTimeout;`,
    ];
    for (const code of violations) {
      const [result] = await eslint.lintText(`${code}\n${original}`, { filePath });
      const rules = result!.messages.map((m) => m.ruleId);
      assert.ok(
        rules.some((r) => r === 'no-restricted-imports' || r === 'no-restricted-globals' || r === 'no-restricted-properties'),
        `not caught: ${code} (got ${rules.join(', ') || 'nothing'})`,
      );
    }
    const [typeOnly] = await eslint.lintText(original, { filePath });
    assert.deepEqual(typeOnly!.messages, [], '`import type` of activities stays allowed');
  });

  /** The rule ids a snippet trips when it is put at the top of `file`. */
  const ruleIdsFor = async (file: string, code: string) => {
    const filePath = `${ROOT}/${file}`;
    const [result] = await eslint.lintText(`${code}\n${await readFile(filePath, 'utf8')}`, { filePath });
    return result!.messages.map((m) => `${m.ruleId}: ${m.message}`);
  };

  it('framework code cannot import the reference domain, in any of its folders', async () => {
    for (const file of ['workflows/model-step.ts', 'contracts/tools.ts', 'activities/index.ts', 'workers/worker.ts', 'client/cli.ts', 'testing/index.ts']) {
      const depth = '../'.repeat(file.split('/').length - 1);
      const found = await ruleIdsFor(file, `import { SUPPORT_TOOLS } from '${depth}examples/support/tools.js';\nexport const z = SUPPORT_TOOLS;`);
      assert.ok(found.some((m) => /must not import the reference domain/.test(m)), `${file}: ${found.join('; ') || 'nothing'}`);
    }
  });

  it('the reference domain reaches Governor through its public entry points only', async () => {
    for (const [file, path] of [
      ['examples/support/tools.ts', '../../contracts/tools.js'],
      ['examples/support/workflows/triage.ts', '../../../workflows/model-step.js'],
      ['examples/support/worker.ts', '../../activities/store.js'],
    ] as const) {
      const found = await ruleIdsFor(file, `import * as internal from '${path}';\nexport const z = internal;`);
      assert.ok(found.some((m) => /public entry points/.test(m)), `${file} importing ${path}: ${found.join('; ') || 'nothing'}`);
    }
    // Its own folders stay reachable.
    assert.deepEqual(await ruleIdsFor('examples/support/workflows/triage.ts', `import { SUPPORT_TOOLS } from '../tools.js';\nexport const z = SUPPORT_TOOLS;`), []);
  });

  it('the demo, the benchmarks and the examples take nothing from test/', async () => {
    for (const [file, path] of [
      ['scripts/demo.ts', '../test/helpers/harness.js'],
      ['bench/overheads.ts', '../test/helpers/harness.js'],
      ['examples/support/worker.ts', '../../test/helpers/postgres.js'],
    ] as const) {
      const found = await ruleIdsFor(file, `import * as helpers from '${path}';\nexport const z = helpers;`);
      assert.ok(found.some((m) => /Only tests import from test\//.test(m)), `${file}: ${found.join('; ') || 'nothing'}`);
    }
  });

  it("no file imports an SDK's internal lib/ path", async () => {
    for (const file of ['activities/index.ts', 'examples/support/worker.ts', 'test/triage.test.ts', 'workflows/approval.ts']) {
      const found = await ruleIdsFor(file, `import { x } from '@temporalio/client/lib/helpers';\nexport const z = x;`);
      assert.ok(found.some((m) => /internal lib\/ path/.test(m)), `${file}: ${found.join('; ') || 'nothing'}`);
    }
  });

  it('typescript (strict, noUncheckedIndexedAccess) type-checks the project', () => {
    const tsc = spawnSync(process.execPath, [`${ROOT}/node_modules/typescript/bin/tsc`, '-p', ROOT], { encoding: 'utf8' });
    assert.equal(tsc.status, 0, tsc.stdout + tsc.stderr);
  });
});
