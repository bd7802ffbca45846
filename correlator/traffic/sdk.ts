// Test traffic from the real OpenTelemetry JS SDK: spans and logs that share trace ids, sent
// over OTLP/HTTP as JSON or protobuf. Used by `make test-traffic` and the SDK tests; the SDK
// packages are devDependencies, so nothing in the service imports this file.
import { ROOT_CONTEXT, SpanStatusCode, trace } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { OTLPLogExporter as JsonLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as ProtoLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPTraceExporter as JsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';

export type Protocol = 'http/json' | 'http/protobuf';

export interface TrafficOptions {
  /** Base URL of the engine, e.g. http://127.0.0.1:8080 */
  readonly endpoint: string;
  readonly protocol: Protocol;
  readonly traces: number;
  /** Extra headers, e.g. Basic auth. */
  readonly headers?: Record<string, string>;
}

export interface SentTrace {
  readonly traceId: string;
  readonly services: string[];
  readonly spans: number;
  readonly errorSpans: number;
  readonly logs: number;
  readonly circuitId: string;
}

/** Per trace: a server span in "frontend", a child in "inventory" (every third fails), a log in each. */
export async function sendTraffic(opts: TrafficOptions): Promise<SentTrace[]> {
  const headers = opts.headers ?? {};
  const traceUrl = `${opts.endpoint}/v1/traces`;
  const logUrl = `${opts.endpoint}/v1/logs`;
  const providers = ['frontend', 'inventory'].map((service) => {
    const resource = resourceFromAttributes({ 'service.name': service, 'deployment.environment': 'test' });
    const spanExporter =
      opts.protocol === 'http/json'
        ? new JsonTraceExporter({ url: traceUrl, headers })
        : new ProtoTraceExporter({ url: traceUrl, headers });
    const logExporter =
      opts.protocol === 'http/json'
        ? new JsonLogExporter({ url: logUrl, headers })
        : new ProtoLogExporter({ url: logUrl, headers });
    return {
      tracer: new BasicTracerProvider({ resource, spanProcessors: [new BatchSpanProcessor(spanExporter)] }),
      logger: new LoggerProvider({ resource, processors: [new BatchLogRecordProcessor({ exporter: logExporter })] }),
    };
  });
  const [front, inv] = providers;
  const sent: SentTrace[] = [];
  for (let i = 0; i < opts.traces; i++) {
    const circuitId = `CIRCUIT-${i}`;
    const root = front.tracer.getTracer('traffic').startSpan('GET /order', {
      attributes: { circuit_id: circuitId, request_id: `req-${i}` },
    });
    const ctx = trace.setSpan(ROOT_CONTEXT, root);
    const child = inv.tracer
      .getTracer('traffic')
      .startSpan('reserve', { attributes: { product_id: `PROD-${i}` } }, ctx);
    const failed = i % 3 === 0;
    if (failed) child.setStatus({ code: SpanStatusCode.ERROR, message: 'out of stock' });
    const childCtx = trace.setSpan(ctx, child);
    front.logger.getLogger('traffic').emit({
      severityNumber: SeverityNumber.INFO,
      severityText: 'INFO',
      body: `order ${i} received`,
      attributes: { circuit_id: circuitId },
      context: ctx,
    });
    inv.logger.getLogger('traffic').emit({
      severityNumber: failed ? SeverityNumber.ERROR : SeverityNumber.INFO,
      severityText: failed ? 'ERROR' : 'INFO',
      body: failed ? `order ${i}: out of stock` : `order ${i} reserved`,
      context: childCtx,
    });
    child.end();
    root.end();
    sent.push({
      traceId: root.spanContext().traceId,
      services: ['frontend', 'inventory'],
      spans: 2,
      errorSpans: failed ? 1 : 0,
      logs: 2,
      circuitId,
    });
  }
  for (const p of providers) {
    await p.tracer.forceFlush();
    await p.logger.forceFlush();
  }
  await Promise.all(providers.flatMap((p) => [p.tracer.shutdown(), p.logger.shutdown()]));
  return sent;
}
