// The correlator's settings, read from an env-like object once at start. Nothing else in
// correlator/ looks at process.env: tests build configs from plain objects.

export type LokiLabel = 'service' | 'env';

export interface CorrelatorConfig {
  readonly host: string;
  readonly port: number;
  /** OTLP/gRPC listener (the collector's load_balancing exporter speaks only gRPC); 0 picks a free port. */
  readonly grpcPort: number;
  /** How long a trace stays open for late spans and logs after its first record arrived. */
  readonly windowSeconds: number;
  /** Records (spans plus log records) in one request; decoding stops past it with a 413. */
  readonly maxBatchSize: number;
  /** Request body cap in bytes, applied before and after decompression; more is a 413. */
  readonly maxBodyBytes: number;
  /** Request bytes held at once (received bodies and their decompressed copies); past it a 429. */
  readonly maxInflightBytes: number;
  /** Containers nested in a JSON body, and AnyValue levels in protobuf; deeper is a 400. */
  readonly maxNestingDepth: number;
  /** Values (objects, arrays, array elements and members) in one JSON body; more is a 413 before parsing. */
  readonly maxJsonValues: number;
  /** Truncation of what the engine keeps, as the OpenTelemetry SDK's span limits do (counted in a metric). */
  readonly limits: IngestLimits;
  /** Correlations held for queries, open and closed; past it the oldest is evicted. */
  readonly maxCorrelations: number;
  /** Estimated bytes of the held correlations; past it the oldest is evicted, as for maxCorrelations. */
  readonly maxStoreBytes: number;
  /** Services one correlation record lists; later ones are counted, not kept. */
  readonly maxServicesPerCorrelation: number;
  /** Records waiting in one export queue; past it ingest answers 429 with Retry-After. */
  readonly exportQueueMaxRecords: number;
  /** Estimated bytes waiting in one export queue; past it as for exportQueueMaxRecords. */
  readonly exportQueueMaxBytes: number;
  /** How long one batch is retried before it is dropped (and counted). */
  readonly exportRetryMaxElapsedSeconds: number;
  readonly exportBatchSize: number;
  readonly exportIntervalMs: number;
  readonly shutdownTimeoutSeconds: number;
  readonly lokiUrl?: string;
  readonly lokiTenant?: string;
  readonly lokiLabels: readonly LokiLabel[];
  readonly tempoOtlpUrl?: string;
  readonly datadog?: { readonly apiKey: string; readonly site: string; readonly logsUrl: string };
  readonly basicAuth?: { readonly user: string; readonly password: string };
  /** Ship received log records to Loki too; off inside a stack, whose collector already does. */
  readonly exportReceivedLogs: boolean;
  readonly env: string;
  readonly logLevel: string;
  /** The other replicas a query fans out to (correlator/fanout.ts); undefined with one replica. */
  readonly peers?: PeersConfig;
}

/** Where the other replicas are, and how long and how much a query waits for each. */
export interface PeersConfig {
  /** A name resolved before every fanned-out query (the headless Service), with the peers' HTTP port. */
  readonly dns?: { readonly host: string; readonly port: number };
  /** Fixed `host:port` addresses (tests, or replicas outside a cluster). */
  readonly static: readonly string[];
  /** This replica's own address (POD_IP), left out of the resolved peers. */
  readonly selfHost?: string;
  /** How long one peer's answer is waited for, connection and body included. */
  readonly timeoutMs: number;
  /** Bytes of one peer's answer read at most; a longer answer counts that peer as failed. */
  readonly maxResponseBytes: number;
}

export interface IngestLimits {
  /** Characters of one attribute value kept (the seed attributes, service.name). */
  readonly attributeValueLength: number;
  /** Attributes of one resource, span or log record looked at; the rest are dropped unread. */
  readonly attributeCount: number;
  /** Characters of a log body kept (only when log lines are exported). */
  readonly bodyLength: number;
  /** Characters of a service name kept (queries take at most 256). */
  readonly serviceNameLength: number;
}

/** What the defaults are scaled from; main.ts passes the V8 heap limit of the running process. */
export interface Runtime {
  readonly heapLimitBytes: number;
}

/** The small profile's heap (--max-old-space-size=384 plus V8's young generation), for callers that pass none. */
export const DEFAULT_HEAP_LIMIT_BYTES = 432 * 1024 * 1024;

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

const ALLOWED_LABELS: readonly LokiLabel[] = ['service', 'env'];
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function str(env: Env, name: string): string | undefined {
  const v = env[name]?.trim();
  return v === undefined || v === '' ? undefined : v;
}

function int(env: Env, name: string, def: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const raw = str(env, name);
  if (raw === undefined) return def;
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `must be a whole number, got "${raw}"`);
  const n = Number(raw);
  if (n < min || n > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${n}`);
  return n;
}

function bool(env: Env, name: string, def: boolean): boolean {
  const raw = str(env, name)?.toLowerCase();
  if (raw === undefined) return def;
  if (['true', '1', 'yes'].includes(raw)) return true;
  if (['false', '0', 'no'].includes(raw)) return false;
  throw new ConfigError(name, `must be true or false, got "${raw}"`);
}

function url(env: Env, name: string): string | undefined {
  const raw = str(env, name);
  if (raw === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(name, `must be an http(s) URL, got "${raw}"`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new ConfigError(name, `must be an http(s) URL, got "${raw}"`);
  }
  return raw.replace(/\/+$/, '');
}

function lokiLabels(env: Env): LokiLabel[] {
  const raw = str(env, 'LOKI_LABELS') ?? 'service,env';
  const labels = raw
    .split(',')
    .map((l) => l.trim())
    .filter(Boolean);
  for (const l of labels) {
    if (l === 'trace_id') {
      throw new ConfigError(
        'LOKI_LABELS',
        'trace_id cannot be a Loki label: every trace would become its own stream (unbounded index, ' +
          'thousands of tiny chunks); the correlator sends it as structured metadata, query it with ' +
          '{service="x"} | trace_id="..."',
      );
    }
    if (!ALLOWED_LABELS.includes(l as LokiLabel)) {
      throw new ConfigError('LOKI_LABELS', `"${l}" is not allowed; labels must be low-cardinality: service, env`);
    }
  }
  if (labels.length === 0) throw new ConfigError('LOKI_LABELS', 'must name at least one of service, env');
  return [...new Set(labels)] as LokiLabel[];
}

/** `host:port` or `[v6]:port`; the port may be left out only where `defaultPort` is given. */
function hostPort(name: string, raw: string, defaultPort?: number): { host: string; port: number } {
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.-]+)(?::(\d{1,5}))?$/.exec(raw);
  const port = m?.[2] !== undefined ? Number(m[2]) : defaultPort;
  if (!m || port === undefined || port < 1 || port > 65535) {
    throw new ConfigError(
      name,
      `must be host:port${defaultPort === undefined ? '' : ' (or a host, for PORT)'}, got "${raw.slice(0, 128)}"`,
    );
  }
  return { host: m[1], port };
}

function peers(env: Env, port: number): PeersConfig | undefined {
  const dnsRaw = str(env, 'CORRELATOR_PEERS_DNS');
  const staticRaw = str(env, 'CORRELATOR_PEERS');
  if (dnsRaw === undefined && staticRaw === undefined) return undefined;
  const dns = dnsRaw === undefined ? undefined : hostPort('CORRELATOR_PEERS_DNS', dnsRaw, port || undefined);
  const list = (staticRaw ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)
    .map((p) => {
      const hp = hostPort('CORRELATOR_PEERS', p);
      return `${hp.host}:${hp.port}`;
    });
  return {
    dns,
    static: [...new Set(list)],
    selfHost: str(env, 'POD_IP'),
    timeoutMs: int(env, 'CORRELATOR_PEER_TIMEOUT_MS', 2000, 10, 60_000),
    maxResponseBytes: int(env, 'CORRELATOR_PEER_MAX_BYTES', 8 * 1024 * 1024, 1024),
  };
}

/** Builds and validates the config; throws ConfigError naming the first bad variable. */
export function loadConfig(
  env: Env,
  runtime: Runtime = { heapLimitBytes: DEFAULT_HEAP_LIMIT_BYTES },
): CorrelatorConfig {
  const user = str(env, 'BASIC_AUTH_USER');
  const password = str(env, 'BASIC_AUTH_PASSWORD');
  if ((user === undefined) !== (password === undefined)) {
    throw new ConfigError(
      user === undefined ? 'BASIC_AUTH_USER' : 'BASIC_AUTH_PASSWORD',
      'BASIC_AUTH_USER and BASIC_AUTH_PASSWORD must be set together',
    );
  }
  const ddKey = str(env, 'DATADOG_API_KEY');
  const ddSite = str(env, 'DD_SITE') ?? 'datadoghq.com';
  if (!/^[a-z0-9.-]+$/.test(ddSite)) throw new ConfigError('DD_SITE', `must be a host name, got "${ddSite}"`);
  const ddLogsUrl = url(env, 'DATADOG_LOGS_URL') ?? `https://http-intake.logs.${ddSite}/api/v2/logs`;
  const logLevel = str(env, 'LOG_LEVEL') ?? 'info';
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  }
  const environment = str(env, 'ENV') ?? 'dev';
  if (!/^[A-Za-z0-9_.-]{1,63}$/.test(environment)) {
    throw new ConfigError('ENV', `must be a short name (letters, digits, _ . -), got "${environment}"`);
  }
  const maxBatchSize = int(env, 'MAX_BATCH_SIZE', 5000, 1);
  const queueMax = int(env, 'EXPORT_QUEUE_MAX_RECORDS', 200_000, 1);
  if (queueMax < maxBatchSize) {
    throw new ConfigError(
      'EXPORT_QUEUE_MAX_RECORDS',
      `must be at least MAX_BATCH_SIZE (${maxBatchSize}), else a full batch never fits`,
    );
  }
  const maxBodyBytes = int(env, 'MAX_BODY_BYTES', 16 * 1024 * 1024, 1024);
  // Byte budgets default to shares of the heap, so that every size profile keeps its own headroom.
  const heap = runtime.heapLimitBytes;
  const maxInflightBytes = int(env, 'MAX_INFLIGHT_BYTES', Math.max(2 * maxBodyBytes, Math.floor(heap * 0.1)), 1024);
  if (maxInflightBytes < 2 * maxBodyBytes) {
    throw new ConfigError(
      'MAX_INFLIGHT_BYTES',
      `must be at least twice MAX_BODY_BYTES (${2 * maxBodyBytes}): a full body and its decompressed copy must fit`,
    );
  }
  const exportQueueMaxBytes = int(
    env,
    'EXPORT_QUEUE_MAX_BYTES',
    Math.max(2 * maxBodyBytes, Math.floor(heap * 0.08)),
    1024,
  );
  if (exportQueueMaxBytes < maxBodyBytes) {
    throw new ConfigError(
      'EXPORT_QUEUE_MAX_BYTES',
      `must be at least MAX_BODY_BYTES (${maxBodyBytes}), else a forwarded trace request never fits`,
    );
  }
  const port = int(env, 'PORT', 8080, 0, 65535);
  const grpcPort = int(env, 'GRPC_PORT', 4317, 0, 65535);
  if (grpcPort !== 0 && grpcPort === port) throw new ConfigError('GRPC_PORT', `must differ from PORT (${port})`);
  return {
    host: str(env, 'HOST') ?? '0.0.0.0',
    port,
    grpcPort,
    windowSeconds: int(env, 'CORR_WINDOW_SECONDS', 60, 1, 86_400),
    maxBatchSize,
    maxBodyBytes,
    maxInflightBytes,
    maxNestingDepth: int(env, 'MAX_NESTING_DEPTH', 64, 8, 10_000),
    maxJsonValues: int(env, 'MAX_JSON_VALUES', 2_000_000, 1000),
    limits: {
      attributeValueLength: int(env, 'ATTRIBUTE_VALUE_LENGTH_LIMIT', 1024, 16),
      attributeCount: int(env, 'ATTRIBUTE_COUNT_LIMIT', 128, 1),
      bodyLength: int(env, 'LOG_BODY_LENGTH_LIMIT', 65_536, 16),
      serviceNameLength: int(env, 'SERVICE_NAME_LENGTH_LIMIT', 256, 16, 256),
    },
    maxCorrelations: int(env, 'MAX_CORRELATIONS', 200_000, 1),
    maxStoreBytes: int(env, 'MAX_STORE_BYTES', Math.floor(heap * 0.3), 1024 * 1024),
    maxServicesPerCorrelation: int(env, 'MAX_SERVICES_PER_CORRELATION', 64, 1, 10_000),
    exportQueueMaxRecords: queueMax,
    exportQueueMaxBytes,
    exportRetryMaxElapsedSeconds: int(env, 'EXPORT_RETRY_MAX_ELAPSED_SECONDS', 300, 1),
    exportBatchSize: int(env, 'EXPORT_BATCH_SIZE', 1000, 1),
    exportIntervalMs: int(env, 'EXPORT_INTERVAL_MS', 1000, 1),
    shutdownTimeoutSeconds: int(env, 'SHUTDOWN_TIMEOUT_SECONDS', 25, 0),
    lokiUrl: url(env, 'LOKI_URL'),
    lokiTenant: str(env, 'LOKI_TENANT'),
    lokiLabels: lokiLabels(env),
    tempoOtlpUrl: url(env, 'TEMPO_OTLP_URL'),
    datadog: ddKey === undefined ? undefined : { apiKey: ddKey, site: ddSite, logsUrl: ddLogsUrl },
    basicAuth: user !== undefined && password !== undefined ? { user, password } : undefined,
    exportReceivedLogs: bool(env, 'EXPORT_RECEIVED_LOGS', false),
    env: environment,
    logLevel,
    peers: peers(env, port),
  };
}
