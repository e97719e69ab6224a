// llmstreamer-producer otlp with exporters nobody here wrote: the OpenTelemetry JavaScript SDK's
// OTLP/HTTP exporters (JSON and protobuf, gzip on; they send chunked bodies without a
// Content-Length) → the receiver → Redis → the gateway → an SSE client, every record and field
// checked; then Redis stopped in the middle of an export: the receiver answers 503 with
// Retry-After, the exporters retry, and nothing is lost.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchLogRecordProcessor, LoggerProvider, SimpleLogRecordProcessor,
} from '@opentelemetry/sdk-logs';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { OTLPLogExporter as JsonLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as ProtoLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPTraceExporter as JsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import * as h from './harness.mjs';

const exporters = {
  json: { logs: JsonLogExporter, traces: JsonTraceExporter },
  protobuf: { logs: ProtoLogExporter, traces: ProtoTraceExporter },
};
const T0 = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
const TRACE_ID = '5b8efff798038103d269b633813fc60c';
const SPAN_ID = 'eee19b7ec3c1b174';

function loggerProvider(Exporter, url, service, processor = 'simple', exporterOptions = {}) {
  const exporter = new Exporter({ url: `${url}/v1/logs`, compression: 'gzip', ...exporterOptions });
  const processors = [processor === 'simple' ? new SimpleLogRecordProcessor({ exporter })
    : new BatchLogRecordProcessor({ exporter, maxExportBatchSize: 10, scheduledDelayMillis: 20 })];
  return new LoggerProvider({ resource: resourceFromAttributes({ 'service.name': service }),
                              processors });
}

describe('OTLP receiver with the OpenTelemetry JS SDK', { timeout: 120000 }, () => {
  let redis, gw, otlp, sse;

  before(async () => {
    redis = await h.startRedis();
    gw = await h.startGateway(redis);
    otlp = await h.startOtlp(redis);
    sse = await h.openEvents(gw);
    await h.waitFor(async () => (await h.streams(gw)) >= 1, { what: 'the SSE client' });
  });

  after(async () => {
    await sse?.close();
    h.killAll();
  });

  for (const encoding of ['json', 'protobuf']) {
    it(`maps log records from the ${encoding} exporter`, async () => {
      const service = `e2e-logs-${encoding}`;
      const provider = loggerProvider(exporters[encoding].logs, otlp.url, service);
      const logger = provider.getLogger('chat.server', '4.5.6');
      const context = trace.setSpanContext(ROOT_CONTEXT,
                                           { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 1 });
      logger.emit({
        timestamp: T0, severityNumber: 13, severityText: 'WARN', body: `slow ${encoding}`, context,
        attributes: { 'gen_ai.request.model': 'llama3', 'gen_ai.usage.input_tokens': 12,
                      'user.tier': 'pro', ratio: 0.5, tags: ['a', 'b'] },
      });
      logger.emit({ timestamp: T0 + 1, severityNumber: 17, body: { step: 2, ok: false } });
      await provider.forceFlush();
      await provider.shutdown();

      const mine = () => sse.events.filter((e) => e.payload?.service === service);
      await h.waitFor(() => mine().length === 2, { what: `2 ${encoding} log records over SSE` });
      // SimpleLogRecordProcessor exports each record on its own, concurrently: any order.
      const first = mine().find((e) => e.payload.level === 'WARN');
      const second = mine().find((e) => e.payload.level === 'ERROR');
      assert.equal(first.channel, 'logs:otel');
      assert.deepEqual(first.payload, {
        ts: '2026-01-02T03:04:05.678Z', level: 'WARN', service, msg: `slow ${encoding}`,
        trace_id: TRACE_ID, span_id: SPAN_ID, 'scope.name': 'chat.server', 'scope.version': '4.5.6',
        'gen_ai.request.model': 'llama3', 'gen_ai.usage.input_tokens': 12, 'user.tier': 'pro',
        ratio: 0.5, tags: ['a', 'b'],
      });
      assert.equal(second.channel, 'logs:otel');
      assert.deepEqual(second.payload, {
        ts: '2026-01-02T03:04:05.679Z', level: 'ERROR', service, msg: '{"ok":false,"step":2}',
        'scope.name': 'chat.server', 'scope.version': '4.5.6',
      });
    });

    it(`maps generation and error spans from the ${encoding} exporter`, async () => {
      const service = `e2e-traces-${encoding}`;
      const exporter = new exporters[encoding].traces({ url: `${otlp.url}/v1/traces`,
                                                        compression: 'gzip' });
      const provider = new BasicTracerProvider({
        resource: resourceFromAttributes({ 'service.name': service }),
        spanProcessors: [new SimpleSpanProcessor(exporter)],
      });
      const tracer = provider.getTracer('llm.client', '1.0.0');
      const generation = tracer.startSpan('chat llama3', {
        kind: SpanKind.CLIENT, startTime: T0,
        attributes: { 'gen_ai.request.model': 'llama3', 'gen_ai.response.model': 'llama3:8b',
                      'gen_ai.usage.prompt_tokens': 100, 'gen_ai.usage.completion_tokens': 20,
                      'gen_ai.server.time_to_first_token': 0.125 },
      });
      generation.end(T0 + 1500);
      const failed = tracer.startSpan('vector search', { startTime: T0 });
      failed.recordException(new TypeError('bad vector'));
      failed.setStatus({ code: SpanStatusCode.ERROR, message: 'index offline' });
      failed.end(T0 + 20);
      tracer.startSpan('GET /health', { startTime: T0 }).end(T0 + 1); // not published
      await provider.forceFlush();
      await provider.shutdown();

      const mine = () => sse.events.filter((e) => e.payload?.service === service);
      await h.waitFor(() => mine().length === 2, { what: `2 ${encoding} span records over SSE` });
      const byChannel = Object.fromEntries(mine().map((e) => [e.channel, e.payload]));
      const gen = byChannel['logs:generation'];
      const common = { service, 'scope.name': 'llm.client', 'scope.version': '1.0.0',
                       ts: '2026-01-02T03:04:05.678Z', trace_id: gen.trace_id };
      assert.match(gen.trace_id, /^[0-9a-f]{32}$/);
      assert.match(gen.span_id, /^[0-9a-f]{16}$/);
      assert.deepEqual(gen, {
        ...common, span_id: gen.span_id, level: 'INFO', msg: 'chat llama3', 'span.kind': 'client',
        duration_ms: 1500, ttft_ms: 125, 'gen_ai.request.model': 'llama3',
        'gen_ai.response.model': 'llama3:8b', 'gen_ai.usage.input_tokens': 100,
        'gen_ai.usage.output_tokens': 20, 'gen_ai.server.time_to_first_token': 0.125,
      });
      const err = byChannel['logs:errors'];
      assert.deepEqual(err, {
        ...common, trace_id: err.trace_id, span_id: err.span_id, level: 'ERROR',
        msg: 'vector search: index offline', 'status.message': 'index offline',
        'error.type': 'TypeError', 'span.kind': 'internal', duration_ms: 20,
      });
    });
  }
});

describe('OTLP receiver while Redis is away', { timeout: 120000 }, () => {
  let redis, gw, otlp, sse;

  before(async () => {
    redis = await h.startRedis();
    // Streams: the gateway reads on from its last entry after the outage, so what the receiver
    // publishes while the gateway reconnects is not missed either.
    gw = await h.startGateway(redis, { args: ['--transport', 'streams'] });
    otlp = await h.startOtlp(redis, { args: ['--transport', 'streams', '--buffer', '20'] });
    sse = await h.openEvents(gw);
    await h.waitFor(async () => (await h.streams(gw)) >= 1, { what: 'the SSE client' });
  });

  after(async () => {
    await sse?.close();
    h.killAll();
  });

  for (const encoding of ['json', 'protobuf']) {
    it(`loses nothing the ${encoding} exporter sends: 503, retried after Redis returns`, async () => {
      const service = `e2e-outage-${encoding}`;
      const provider = loggerProvider(exporters[encoding].logs, otlp.url, service, 'batch',
                                      { timeoutMillis: 30000 });
      const logger = provider.getLogger('outage');
      const port = redis.port;
      await redis.stop();
      const n = 60;
      for (let i = 0; i < n; i++) logger.emit({ severityText: 'INFO', body: `record ${i}` });
      const flushed = provider.forceFlush();
      // The receiver is busy once its buffer of 20 is full: it answers 503 with Retry-After,
      // and the exporter retries (an empty request, to see it; it carries no records).
      await h.waitFor(async () => {
        const res = await fetch(`${otlp.url}/v1/logs`, {
          method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
        return res.status === 503 && res.headers.get('retry-after') === '1';
      }, { timeout: 15000, what: 'the receiver to answer 503' });
      redis = await h.startRedis(port);
      await flushed;
      await provider.shutdown();

      const msgs = () => new Set(sse.events.filter((e) => e.payload?.service === service)
        .map((e) => e.payload.msg));
      await h.waitFor(() => msgs().size === n,
                      { timeout: 30000, what: `all ${n} ${encoding} records over SSE` });
      for (let i = 0; i < n; i++) assert.ok(msgs().has(`record ${i}`), `record ${i}`);
    });
  }

  it('says in its summary how many requests it refused as busy', async () => {
    const { code, stderr } = await otlp.stop();
    assert.equal(code, 0, stderr);
    const busy = /of them busy (\d+)/.exec(stderr);
    assert.ok(busy && Number(busy[1]) > 2, stderr);
  });
});
