// OTLP/gRPC (LogsService/Export, TraceService/Export) on GRPC_PORT, for senders that speak only
// gRPC: the collector's load_balancing exporter in particular. The service definitions come from
// the vendored .proto files through proto-loader; the messages themselves pass as bytes, so that
// a request goes through the same decoder, admission and correlation as an OTLP/HTTP protobuf
// body (and is forwarded to Tempo byte for byte), and the answers can carry partial_success,
// which the vendored response messages predate.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { PROTO_DIR, retryStatusProto, type Signal } from './otlp.js';

/**
 * Handles one export: the request bytes (already gunzipped by grpc-js) and the `authorization`
 * metadata in, the encoded Export*ServiceResponse out. Throws errors carrying an HTTP
 * `statusCode`, mapped here to the gRPC code OTLP assigns it.
 */
export type GrpcExportHandler = (signal: Signal, body: Buffer, authorization: string | undefined) => Buffer;

export interface GrpcServerOptions {
  readonly maxMessageBytes: number;
  /** Seconds a client is told to wait (RetryInfo) when refused for lack of room. */
  readonly retryAfterSeconds: number;
}

export interface OtlpGrpcServer {
  /** Binds host:port (0 picks one); resolves to the bound port. */
  listen(host: string, port: number): Promise<number>;
  /** Lets in-flight calls finish for up to `timeoutMs`, then cancels the rest. */
  close(timeoutMs: number): Promise<void>;
}

const SERVICES: Readonly<Record<Signal, string>> = {
  logs: 'opentelemetry.proto.collector.logs.v1.LogsService',
  traces: 'opentelemetry.proto.collector.trace.v1.TraceService',
};

/** OTLP/HTTP status to the OTLP/gRPC code with the same meaning (and retry rules). */
export function grpcCodeOf(httpStatus: number): grpc.status {
  if (httpStatus === 400 || httpStatus === 415) return grpc.status.INVALID_ARGUMENT;
  if (httpStatus === 401) return grpc.status.UNAUTHENTICATED;
  if (httpStatus === 413 || httpStatus === 429) return grpc.status.RESOURCE_EXHAUSTED;
  if (httpStatus === 503) return grpc.status.UNAVAILABLE;
  return grpc.status.INTERNAL;
}

let definitions: protoLoader.PackageDefinition | undefined;

function serviceDefinition(signal: Signal): grpc.ServiceDefinition {
  definitions ??= protoLoader.loadSync(
    [
      'opentelemetry/proto/collector/logs/v1/logs_service.proto',
      'opentelemetry/proto/collector/trace/v1/trace_service.proto',
    ],
    { includeDirs: [PROTO_DIR] },
  );
  const service = definitions[SERVICES[signal]] as protoLoader.ServiceDefinition;
  const exportMethod = service.Export;
  const bytes = (b: Buffer) => b;
  return {
    Export: {
      ...exportMethod,
      requestDeserialize: bytes,
      requestSerialize: bytes,
      responseSerialize: bytes,
      responseDeserialize: bytes,
    },
  } as grpc.ServiceDefinition;
}

export function otlpGrpcServer(handle: GrpcExportHandler, opts: GrpcServerOptions): OtlpGrpcServer {
  const server = new grpc.Server({
    // Decompressed size: grpc-js inflates with this as its limit (it refuses a gzip bomb itself).
    'grpc.max_receive_message_length': opts.maxMessageBytes,
    // grpc-js holds every stream's message before the engine sees it: fewer streams, fewer held.
    'grpc.max_concurrent_streams': 100,
    // Senders keep long-lived connections; a bounded age makes them re-resolve and rebalance.
    'grpc.max_connection_age_ms': 10 * 60_000,
  });
  for (const signal of ['logs', 'traces'] as const) {
    server.addService(serviceDefinition(signal), {
      Export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
        const auth = call.metadata.get('authorization')[0];
        try {
          callback(null, handle(signal, call.request, typeof auth === 'string' ? auth : undefined));
        } catch (err) {
          const e = err as Error & { statusCode?: number };
          const status = e.statusCode ?? 500;
          const code = grpcCodeOf(status);
          const metadata = new grpc.Metadata();
          // Full queues or a stop: worth retrying, and the collector retries RESOURCE_EXHAUSTED only with RetryInfo.
          if (status === 429 || status === 503) {
            metadata.set('grpc-status-details-bin', retryStatusProto(code, e.message, opts.retryAfterSeconds));
          }
          callback({ code, details: e.message, metadata });
        }
      },
    });
  }
  return {
    listen: (host, port) =>
      new Promise((resolve, reject) => {
        server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (err, bound) =>
          err ? reject(err) : resolve(bound),
        );
      }),
    close: (timeoutMs) =>
      new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, timeoutMs);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      }),
  };
}
