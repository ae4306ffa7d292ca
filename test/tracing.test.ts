import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_RESPONSE_FINISH_REASONS,
  ATTR_GEN_AI_TOOL_NAME,
  ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
  ATTR_GEN_AI_INPUT_MESSAGES,
} from '@opentelemetry/semantic-conventions/incubating';
import { Worker } from '@temporalio/worker';
import { createTracing, type Tracing } from 'governor/worker';
import { eventually, startHarness, ticketEvent, type Harness } from './helpers/harness.js';

/** A span as the OTLP/HTTP JSON encoding carries it, attributes flattened. */
interface Received {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string;
  readonly name: string;
  readonly service: string;
  readonly attributes: Record<string, unknown>;
  readonly status: number;
}

type AnyValue = { stringValue?: string; intValue?: string | number; doubleValue?: number; boolValue?: boolean; arrayValue?: { values?: AnyValue[] } };
function valueOf(v: AnyValue): unknown {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.arrayValue) return (v.arrayValue.values ?? []).map(valueOf);
  return undefined;
}

/** A real OTLP/HTTP receiver on loopback: what a collector's `otlp` receiver accepts, kept in memory for the test. */
async function startReceiver(): Promise<{ server: Server; url: string; spans: Received[] }> {
  const spans: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/traces' || !String(req.headers['content-type']).includes('json')) {
        res.writeHead(415).end();
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      for (const rs of body.resourceSpans ?? []) {
        const service = valueOf(rs.resource?.attributes?.find((a: { key: string }) => a.key === 'service.name')?.value ?? {}) as string;
        for (const ss of rs.scopeSpans ?? []) {
          for (const s of ss.spans ?? []) {
            spans.push({
              traceId: s.traceId,
              spanId: s.spanId,
              parentSpanId: s.parentSpanId ?? '',
              name: s.name,
              service,
              attributes: Object.fromEntries((s.attributes ?? []).map((a: { key: string; value: AnyValue }) => [a.key, valueOf(a.value)])),
              status: s.status?.code ?? 0,
            });
          }
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`, spans };
}

describe('traces: client → workflow → model call → tool → evidence, over OTLP', () => {
  let h: Harness;
  let tracing: Tracing;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  before(async () => {
    receiver = await startReceiver();
    tracing = createTracing({ serviceName: 'governor-test', url: receiver.url });
    h = await startHarness({ tracing });
  });
  after(async () => {
    await h?.close();
    await tracing?.shutdown();
    await new Promise((r) => receiver?.server.close(r));
  });

  /** Every span of the trace the run's start opened, once the run's spans have all arrived. */
  async function traceOf(workflowId: string, until: (spans: Received[]) => boolean): Promise<Received[]> {
    return eventually('the run\'s spans at the receiver', async () => {
      await tracing.flush();
      const root = receiver.spans.find((s) => s.name === 'StartWorkflow:supportTicketTriage' && s.attributes.temporalWorkflowId === workflowId);
      if (!root) return undefined;
      const spans = receiver.spans.filter((s) => s.traceId === root.traceId);
      return until(spans) ? spans : undefined;
    });
  }

  const childrenOf = (spans: Received[], parent: Received, name: string | RegExp) =>
    spans.filter((s) => s.parentSpanId === parent.spanId && (typeof name === 'string' ? s.name === name : name.test(s.name)));
  const onlyChild = (spans: Received[], parent: Received, name: string | RegExp) => {
    const found = childrenOf(spans, parent, name);
    assert.equal(found.length, 1, `one ${String(name)} under ${parent.name}, got ${found.map((s) => s.name).join(', ') || 'none'}`);
    return found[0]!;
  };

  it("a triage run's tree, with GenAI and governance attributes and no ticket text", async () => {
    const marker = `PII-${Date.now().toString(36)}`;
    const body = `I upgraded to Pro and see two charges on my card. My card is 4111 1111 1111 1111, ${marker}.`;
    const started = await h.client.startTriage(ticketEvent({ body }));
    const result = await h.client.triageResult(started.workflowId);
    assert.equal(result.outcome, 'escalated');
    const spans = await traceOf(started.workflowId, (s) => s.filter((x) => x.name === 'governor.evidence').length >= 2);

    const root = spans.find((s) => s.name === 'StartWorkflow:supportTicketTriage')!;
    assert.equal(root.parentSpanId, '', 'the client start is the root');
    const run = onlyChild(spans, root, 'RunWorkflow:supportTicketTriage');

    const chat = onlyChild(spans, run, /^chat /);
    assert.equal(chat.attributes[ATTR_GEN_AI_OPERATION_NAME], 'chat');
    assert.equal(chat.attributes[ATTR_GEN_AI_PROVIDER_NAME], 'anthropic');
    assert.equal(chat.name, `chat ${chat.attributes[ATTR_GEN_AI_REQUEST_MODEL]}`);
    assert.ok((chat.attributes[ATTR_GEN_AI_USAGE_INPUT_TOKENS] as number) > 0);
    assert.ok((chat.attributes[ATTR_GEN_AI_USAGE_OUTPUT_TOKENS] as number) > 0);
    // The classifier answers through a tool call (structured output), so the model stops to use it.
    assert.deepEqual(chat.attributes[ATTR_GEN_AI_RESPONSE_FINISH_REASONS], ['tool_use']);
    assert.equal(chat.attributes['governor.prompt.version'], `${result.prompt.name}@${result.prompt.version}`);
    assert.ok((chat.attributes['governor.cost_usd'] as number) > 0);
    assert.equal(chat.attributes['governor.validation.valid'], true);
    const callModel = onlyChild(spans, onlyChild(spans, chat, 'StartActivity:callModel'), 'RunActivity:callModel');
    assert.equal(callModel.service, 'governor-test');

    // The decision, applied through a tool (a local activity here), and the escalation (a regular one).
    const tools = childrenOf(spans, run, 'StartActivity:executeTool').map((start) => onlyChild(spans, onlyChild(spans, start, 'RunActivity:executeTool'), /^execute_tool /));
    assert.deepEqual(tools.map((t) => t.attributes[ATTR_GEN_AI_TOOL_NAME]).sort(), ['apply_triage_decision', 'create_escalation']);
    for (const tool of tools) {
      assert.equal(tool.attributes['governor.permission.decision'], 'allow');
      assert.equal(tool.attributes['governor.evidence.status'], 'success');
      assert.ok(result.evidenceIds.includes(tool.attributes['governor.evidence.id'] as string), 'the span names the run\'s evidence');
      const evidence = onlyChild(spans, tool, 'governor.evidence');
      assert.equal(evidence.attributes['governor.evidence.id'], tool.attributes['governor.evidence.id']);
      assert.match(evidence.attributes['governor.evidence.hash'] as string, /^[0-9a-f]{64}$/);
    }

    // No prompt text or personal data on any span at the default settings.
    const everything = JSON.stringify(spans.map((s) => s.attributes));
    assert.ok(!everything.includes(marker), 'the ticket body is on no span');
    assert.ok(!everything.includes('4111'), 'the card number is on no span');
    assert.ok(!spans.some((s) => ATTR_GEN_AI_INPUT_MESSAGES in s.attributes));

    // Tracing adds nothing to what the workflow decides: the traced run replays on the traced bundle.
    const history = await h.client.client.workflow.getHandle(started.workflowId).fetchHistory();
    await Worker.runReplayHistory({ workflowBundle: h.bundle, plugins: [tracing.plugin] }, history, started.workflowId);
  });

  it('with content capture on, the prompt is on the model call and still nowhere else', async () => {
    tracing.setCaptureContent(true);
    try {
      const marker = `PII-${Date.now().toString(36)}-on`;
      const started = await h.client.startTriage(ticketEvent({ subject: 'Auto top up', body: `How do I use auto top up? ${marker}` }));
      await h.client.triageResult(started.workflowId);
      const spans = await traceOf(started.workflowId, (s) => s.some((x) => x.name === 'RunActivity:callModel') && s.some((x) => x.name === 'governor.evidence'));
      const withText = spans.filter((s) => JSON.stringify(s.attributes).includes(marker));
      assert.deepEqual(withText.map((s) => s.name), ['RunActivity:callModel'], 'only the model call carries the text');
      assert.ok((withText[0]!.attributes[ATTR_GEN_AI_INPUT_MESSAGES] as string).includes(marker));
    } finally {
      tracing.setCaptureContent(false);
    }
  });
});
