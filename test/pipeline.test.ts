import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Worker } from '@temporalio/worker';
import { cleanDocument, splitDocument } from 'governor/workflow';
import type { DocumentResult } from '../examples/support/contracts/document.js';
import { startHarness, type Harness } from './helpers/harness.js';

const paragraph = (i: number, marker = '') => `Paragraph ${i} opens the point. ${marker}It explains one thing about refunds and fees, in some detail for the reader. It ends here.`;

describe('document pipeline: split, parallel chunk summaries with fallback, merge; a failed chunk is marked, never dropped', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h?.close();
  });

  it('splits deterministically at paragraph, sentence and word boundaries, after cleaning', () => {
    assert.equal(cleanDocument('a\u0000b \t c\r\n\r\n\r\n\r\nd'), 'ab c\n\nd');
    const chunks = splitDocument(`${'x'.repeat(150)}\n\n${'Short one. '.repeat(30)}`, 120);
    assert.ok(chunks.every((c) => c.length <= 120), 'no chunk over the limit');
    assert.equal(chunks.join('').replace(/\s/g, '').length, `${'x'.repeat(150)}${'Short one. '.repeat(30)}`.replace(/\s/g, '').length - 30, 'nothing lost but the over-long word cut');
    assert.throws(() => splitDocument('text', 10), /chunkChars must be at least 100/);
  });

  it('twelve chunks, three at a time: one answered by the fallback model, one marked missing in place', async () => {
    const text = Array.from({ length: 12 }, (_, i) => paragraph(i + 1, i === 4 ? 'FAIL_FIRST ' : i === 8 ? 'FAIL_ALL ' : '')).join('\n\n');
    const u = Date.now().toString(36);
    const event = { event: 'document.submitted', event_id: `evt_doc_${u}`, created_at: new Date().toISOString(), document_id: `doc_${u}`, title: 'Refund policy', text };
    const { workflowId } = await h.client.start('documentPipeline', event, { chunkChars: 200, concurrency: 3, budgets: { transportAttempts: 1, maxModelCalls: 8 } });
    const result = await h.client.result<DocumentResult>(workflowId);
    assert.equal(result.chunks, 12);
    assert.deepEqual(result.missing, [8]);
    assert.deepEqual(result.models.map((m, i) => (i === 4 || i === 8 ? m : m === 'claude-haiku-4-5')), [true, true, true, true, 'gpt-4.1-mini', true, true, true, null, true, true, true]);
    const sections = result.text.split('\n## ').length - 1;
    assert.equal(sections, 12, 'one section per chunk, the missing one included');
    assert.match(result.text, /## Part 5 \(summarised by gpt-4\.1-mini, fallback\)\nParagraph 5 opens the point\./);
    assert.match(result.text, /## Part 9 \(MISSING: all_models_failed: /);
    assert.match(result.text, /## Part 10 \(summarised by claude-haiku-4-5\)\nParagraph 10 opens the point\./, 'order kept after the gap');
    const history = await h.client.client.workflow.getHandle(workflowId).fetchHistory();
    await Worker.runReplayHistory({ workflowBundle: h.bundle }, history, workflowId);
  });
});
