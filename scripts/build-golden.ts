/**
 * `npm run evals:golden`: builds the golden eval set (examples/support/evals/golden.json) from Banking77's test split
 * (../shared/data/banking77, CC BY 4.0): the first two queries of each of its 77 intents, with the category and
 * urgency the reviewed table (examples/support/evals/intent-labels.ts) gives the intent.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import { INTENT_LABELS } from '../examples/support/evals/intent-labels.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const source = process.env.BANKING77_CSV ?? `${ROOT}../shared/data/banking77/test.csv`;
const rows = parse(await readFile(source, 'utf8'), { columns: true, skip_empty_lines: true }) as Array<{ text: string; category: string }>;
const perIntent = new Map<string, string[]>();
for (const row of rows) {
  const list = perIntent.get(row.category) ?? [];
  if (list.length < 2) list.push(row.text.trim());
  perIntent.set(row.category, list);
}
const cases = [...perIntent].flatMap(([intent, texts]) => {
  const labels = INTENT_LABELS[intent];
  if (!labels) throw new Error(`intent ${intent} has no label in intent-labels.ts`);
  return texts.map((text, i) => ({ id: `b77-${intent.replace(/\W/g, '')}-${i + 1}`, intent, input: { subject: '(no subject)', body: text }, expected: labels }));
});
const out = `${ROOT}examples/support/evals/golden.json`;
await writeFile(out, `${JSON.stringify({ source: 'Banking77 test split (PolyAI), CC BY 4.0; labels: intent-labels.ts', cases }, null, 2)}\n`);
process.stdout.write(`wrote ${cases.length} cases from ${perIntent.size} intents to ${out}\n`);
