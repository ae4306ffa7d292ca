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
    const filePath = `${ROOT}/workflows/triage.ts`;
    const original = await readFile(filePath, 'utf8');
    const violations = [
      `import { readFileSync } from 'node:fs';\nexport const a = readFileSync;`,
      `import { readFileSync } from 'fs';\nexport const a = readFileSync;`,
      `import { Context } from '@temporalio/activity';\nexport const a = Context;`,
      `import Anthropic from '@anthropic-ai/sdk';\nexport const a = Anthropic;`,
      `import { createActivities } from '../activities/index.js';\nexport const a = createActivities;`,
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

  it('typescript (strict, noUncheckedIndexedAccess) type-checks the project', () => {
    const tsc = spawnSync(process.execPath, [`${ROOT}/node_modules/typescript/bin/tsc`, '-p', ROOT], { encoding: 'utf8' });
    assert.equal(tsc.status, 0, tsc.stdout + tsc.stderr);
  });
});
