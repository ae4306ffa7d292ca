import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { extractJson } from '../../activities/providers/json.js';

const ticket = { category: 'billing', priority: 'high', reason: 'charged twice' };
const ticketJson = JSON.stringify(ticket);

/** The reply parsed to `expected` with no error. */
function reads(reply: string, expected: unknown): void {
  assert.deepEqual(extractJson(reply), { parsed: expected, parseError: null });
}

/** The reply was not read, and the error says why. */
function rejects(reply: string, error: RegExp): void {
  const { parsed, parseError } = extractJson(reply);
  assert.equal(parsed, null);
  assert.match(parseError ?? '', error);
}

describe('extractJson', () => {
  it('parses plain JSON as is', () => {
    reads(ticketJson, ticket);
    reads(`  \n${JSON.stringify(ticket, null, 2)}\n `, ticket);
    reads('{}', {});
  });

  it('unwraps a reply that is entirely a code fence', () => {
    reads(`\`\`\`json\n${ticketJson}\n\`\`\``, ticket);
    reads(`\`\`\`\n${ticketJson}\n\`\`\``, ticket);
  });

  it('extracts JSON from a fence surrounded by prose (the exact example)', () => {
    reads(`Here you go: \`\`\`json ${ticketJson} \`\`\` Let me know if you need more.`, ticket);
  });

  it('extracts JSON from a fence surrounded by prose on separate lines', () => {
    // jsonrepair on its own would fold the trailing line into a newline-delimited array: [ticket, "Let me know..."].
    reads(`Here you go:\n\n\`\`\`json\n${JSON.stringify(ticket, null, 2)}\n\`\`\`\n\nLet me know if you need more.`, ticket);
  });

  it('extracts a bare object surrounded by prose', () => {
    reads(`Sure, I'd classify it as ${ticketJson}. Hope that helps!`, ticket);
    reads(`The classification:\n${ticketJson}\nThanks!`, ticket);
  });

  it('reads nested fences: a fence inside a string, and a fenced block inside another fence', () => {
    const withCode = { category: 'bug', reason: 'the snippet ```js\nfoo({ a: [1] })\n``` throws' };
    reads(`\`\`\`json\n${JSON.stringify(withCode)}\n\`\`\``, withCode);
    reads(`Here:\n\`\`\`json\n${JSON.stringify(withCode)}\n\`\`\`\nDone.`, withCode);
    reads(`\`\`\`\`markdown\n\`\`\`json\n${ticketJson}\n\`\`\`\n\`\`\`\``, ticket);
  });

  it('reads arrays: plain, fenced in prose, and not split into their elements', () => {
    reads('[1, 2, 3]', [1, 2, 3]);
    reads('Here are the tags: ```json ["a", "b"] ``` as requested.', ['a', 'b']);
    reads('Both tickets:\n```json\n[{"id": 1}, {"id": 2}]\n```', [{ id: 1 }, { id: 2 }]);
  });

  it('prefers an object to bracketed prose before it', () => {
    reads(`About ticket [#1234], see [1]: \`\`\`json\n${ticketJson}\n\`\`\``, ticket);
  });

  it('repairs small syntax slips into the expected value', () => {
    reads(`{category: 'billing', priority: 'high', reason: 'charged twice',}`, ticket);
    reads(`Here: {'category': 'billing', 'priority': 'high', "reason": "charged twice", } ok?`, ticket);
    reads(`{"tags": ["a", "b",], "ok": True, "note": None}`, { tags: ['a', 'b'], ok: true, note: null });
    reads(`Here you go: \`\`\`json {category: "billing", priority: 'high', reason: "charged twice",} \`\`\``, ticket);
  });

  it('rejects a reply that is prose only, even though jsonrepair would turn it into a JSON string', () => {
    rejects('I cannot help with that', /no JSON object or array/);
    rejects('Sure!', /no JSON object or array/);
    rejects("I'm sorry, I can't help with {that sort of thing}.", /no object or array could be read/);
  });

  it('does not take bracketed prose for an array answer', () => {
    rejects('I cannot help with that [1].', /no object or array could be read from it \(the brackets at position 24 are part of the prose/);
    rejects('Sorry [citation needed], I will not classify this.', /part of the prose/);
    reads('[1, 2, 3,]', [1, 2, 3]);
  });

  it('refuses a reply that stops inside its value: repairing it would invent the missing end', () => {
    rejects('{"category": "billing", "reason": "the customer says', /ends before the value closes/);
    rejects('{"a":', /ends before the value closes/);
    rejects(`{"category": "billing", "priority": "high", "reason": "charged twice"`, /ends before the value closes/);
  });

  it('rejects JSON that is not an object or array', () => {
    rejects('"just a string"', /JSON string, not an object or array/);
    rejects('42', /JSON number/);
    rejects('null', /JSON null/);
  });

  it('reports an empty reply', () => {
    assert.deepEqual(extractJson(''), { parsed: null, parseError: 'the reply was empty' });
    assert.deepEqual(extractJson(' \n\t '), { parsed: null, parseError: 'the reply was empty' });
  });

  it('is bounded: an over-long reply is refused, and only the first candidates are tried', () => {
    rejects(`${ticketJson}${' '.repeat(100_001)}x`, /not read/);
    // Eight prose braces use up the candidates before the real answer is reached.
    const braces = Array.from({ length: 8 }, (_, i) => `{not json ${i}}`).join(' ');
    rejects(`${braces} ${ticketJson}`, /no object or array could be read/);
    const seven = Array.from({ length: 7 }, (_, i) => `{not json ${i}}`).join(' ');
    reads(`${seven} ${ticketJson}`, ticket);
    // Deep nesting is refused before jsonrepair's recursion could exhaust the stack.
    rejects(`Deep: ${'['.repeat(300)}${']'.repeat(300)}`, /nested more than 256 levels/);
    reads(`Deep: ${'{"a":'.repeat(200)}1${'}'.repeat(200)}`, JSON.parse(`${'{"a":'.repeat(200)}1${'}'.repeat(200)}`));
  });
});
