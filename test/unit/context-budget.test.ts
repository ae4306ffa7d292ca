import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ContextBudget, planContext, type ContextTurn } from 'governor';
import { tokenizerCount, tokenizerCountRequest } from 'governor/worker';

const budget = ContextBudget.parse({ maxInputTokens: 1000, keepRecentTurns: 3, summariseAt: 0.8, maxSummaryTokens: 150 });
const turns = (n: number, tokens: number, low: (i: number) => boolean = () => false): ContextTurn[] =>
  Array.from({ length: n }, (_, i) => ({ id: `t${i + 1}`, tokens, value: low(i) ? 'low' : 'high' }));

describe('context budget', () => {
  it('declared with named rules', () => {
    const bad = ContextBudget.safeParse({ maxInputTokens: 100 });
    assert.equal(bad.success, false);
    assert.match(JSON.stringify(bad.error?.issues), /at least 256 tokens/);
  });

  it('under the summarise mark: everything is sent as it is', () => {
    const plan = planContext(budget, { fixedTokens: 200, summaryTokens: 0, turns: turns(5, 100) });
    assert.deepEqual(plan, { keep: ['t1', 't2', 't3', 't4', 't5'], summarise: [], drop: [], tokens: 700, overBudget: false });
  });

  it('over it: older low-value turns are dropped, older high-value ones summarised, the newest kept; pinned facts always in', () => {
    const plan = planContext(budget, { fixedTokens: 300, summaryTokens: 0, turns: turns(8, 100, (i) => i % 2 === 0) });
    assert.deepEqual(plan.keep, ['t6', 't7', 't8']);
    assert.deepEqual(plan.summarise, ['t2', 't4']);
    assert.deepEqual(plan.drop, ['t1', 't3', 't5']);
    assert.equal(plan.tokens, 300 + 150 + 300, 'pinned + the summary allowance + three recent turns');
    assert.equal(plan.overBudget, false);
  });

  it('recent low-value detail goes next, the newest turn never; still over says so rather than sending it', () => {
    const tight = planContext(budget, { fixedTokens: 500, summaryTokens: 150, turns: [...turns(3, 50), { id: 'raw', tokens: 200, value: 'low' }, { id: 'now', tokens: 150, value: 'high' }, { id: 'last', tokens: 10, value: 'low' }] });
    assert.ok(tight.drop.includes('raw'));
    assert.ok(tight.keep.includes('last'), 'the newest turn stays even when low-value');
    assert.equal(tight.overBudget, false);
    const impossible = planContext(budget, { fixedTokens: 950, summaryTokens: 0, turns: turns(2, 100) });
    assert.equal(impossible.overBudget, true);
  });

  it('tokens are counted by a real BPE tokenizer, not a characters-per-token guess', () => {
    assert.equal(tokenizerCount('hello world'), 2);
    assert.equal(tokenizerCount('Tokenization is not characters divided by four.'), 9);
    const text = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'; // 40 characters: a guess would say 10
    assert.notEqual(tokenizerCount(text), 10);
    assert.equal(tokenizerCountRequest({ system: 'Be brief.', messages: [{ role: 'user', content: 'hello world' }] }), 3 + (3 + 3) + (3 + 2));
  });
});
