/**
 * `npm run chaos`: Governor under kills, restarts, fault storms, injection and fuzzing, each scenario bounded in runs
 * and time and ended by the same invariant checks; prints a table of scenarios × invariants and exits non-zero when
 * any is red.
 *
 *   npm run chaos -- [--only kills,server,store,faults,injection,fuzz] [--runs 200]
 */
import { parseArgs } from 'node:util';
import { INVARIANTS, type Invariant } from './rig.js';
import { fuzz, injection, providerFaults, serverRestart, storeRestart, workerKills, type Outcome } from './scenarios.js';

const { values } = parseArgs({ options: { only: { type: 'string', default: 'kills,server,store,faults,injection,fuzz' }, runs: { type: 'string', default: '200' } } });
const only = new Set(values.only.split(','));
const runs = Number(values.runs);
const log = (line: string) => process.stderr.write(`${line}\n`);

const outcomes: Outcome[] = [];
if (only.has('kills')) outcomes.push(await workerKills(log, runs, 6));
if (only.has('server')) outcomes.push(await serverRestart(log, Math.min(runs, 60)));
if (only.has('store')) outcomes.push(await storeRestart(log, Math.min(runs, 60)));
if (only.has('faults')) outcomes.push(await providerFaults(log, Math.min(runs, 40)));
if (only.has('injection')) outcomes.push(await injection(log));
if (only.has('fuzz')) outcomes.push(fuzz(log, 3));

const columns: Invariant[] = [...INVARIANTS, 'recovers', 'no unauthorised tool', 'refusals name the field'];
const mark = (ok: boolean | undefined) => (ok === undefined ? '-' : ok ? 'ok' : 'FAIL');
process.stdout.write(`\n${'scenario'.padEnd(62)} ${columns.map((c) => c.slice(0, 12).padEnd(13)).join('')}time\n`);
for (const o of outcomes) {
  process.stdout.write(`${o.scenario.slice(0, 61).padEnd(62)} ${columns.map((c) => mark(o.checks[c]?.ok).padEnd(13)).join('')}${o.seconds.toFixed(0)} s\n`);
}
process.stdout.write('\n');
for (const o of outcomes) {
  process.stdout.write(`${o.scenario}${o.note ? ` (${o.note})` : ''}\n`);
  for (const [k, c] of Object.entries(o.checks)) process.stdout.write(`  ${c.ok ? 'ok  ' : 'FAIL'} ${k}: ${c.detail}\n`);
}
const red = outcomes.filter((o) => Object.values(o.checks).some((c) => !c.ok));
process.stdout.write(`\n${outcomes.length - red.length} of ${outcomes.length} scenarios green\n`);
process.exitCode = red.length === 0 ? 0 : 1;
