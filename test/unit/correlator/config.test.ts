import { describe, expect, it } from '@jest/globals';
import { ConfigError, loadConfig } from '../../../correlator/config.js';

function errorOf(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    return err as ConfigError;
  }
  throw new Error('expected loadConfig to throw');
}

describe('correlator config', () => {
  it('uses the seed defaults when nothing is set', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      port: 8080,
      grpcPort: 4317,
      windowSeconds: 60,
      maxBatchSize: 5000,
      lokiLabels: ['service', 'env'],
      exportReceivedLogs: false,
      env: 'dev',
    });
    expect(c.lokiUrl).toBeUndefined();
    expect(c.datadog).toBeUndefined();
    expect(c.basicAuth).toBeUndefined();
  });

  it('refuses a gRPC port equal to the HTTP port, naming GRPC_PORT', () => {
    expect(errorOf({ PORT: '9000', GRPC_PORT: '9000' }).message).toBe('GRPC_PORT: must differ from PORT (9000)');
    expect(errorOf({ GRPC_PORT: '70000' }).message).toMatch(/^GRPC_PORT: must be between 0 and 65535/);
  });

  it('refuses trace_id as a Loki label and says why', () => {
    const err = errorOf({ LOKI_LABELS: 'service,trace_id' });
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.variable).toBe('LOKI_LABELS');
    expect(err.message).toMatch(/trace_id cannot be a Loki label.*structured metadata/);
  });

  it('refuses labels outside service and env', () => {
    expect(errorOf({ LOKI_LABELS: 'service,pod' }).message).toMatch(/LOKI_LABELS: "pod" is not allowed/);
  });

  it('names the variable of a malformed number', () => {
    expect(errorOf({ CORR_WINDOW_SECONDS: 'soon' }).message).toBe(
      'CORR_WINDOW_SECONDS: must be a whole number, got "soon"',
    );
    expect(errorOf({ PORT: '70000' }).variable).toBe('PORT');
  });

  it('wants both Basic auth variables or neither', () => {
    expect(errorOf({ BASIC_AUTH_USER: 'admin' }).variable).toBe('BASIC_AUTH_PASSWORD');
    expect(loadConfig({ BASIC_AUTH_USER: 'a', BASIC_AUTH_PASSWORD: 'b' }).basicAuth).toEqual({
      user: 'a',
      password: 'b',
    });
  });

  it('refuses a URL that is not http(s)', () => {
    expect(errorOf({ LOKI_URL: 'loki:3100' }).variable).toBe('LOKI_URL');
  });

  it('builds the Datadog intake URL from DD_SITE', () => {
    const c = loadConfig({ DATADOG_API_KEY: 'k', DD_SITE: 'datadoghq.eu' });
    expect(c.datadog).toEqual({
      apiKey: 'k',
      site: 'datadoghq.eu',
      logsUrl: 'https://http-intake.logs.datadoghq.eu/api/v2/logs',
    });
  });

  it('refuses a queue smaller than one batch', () => {
    expect(errorOf({ MAX_BATCH_SIZE: '100', EXPORT_QUEUE_MAX_RECORDS: '10' }).variable).toBe(
      'EXPORT_QUEUE_MAX_RECORDS',
    );
  });

  it('sizes the byte budgets from the heap it is given, and the limits like the OpenTelemetry SDK', () => {
    const small = loadConfig({}, { heapLimitBytes: 432 * 2 ** 20 });
    expect(small).toMatchObject({
      maxInflightBytes: Math.floor(432 * 2 ** 20 * 0.1),
      maxStoreBytes: Math.floor(432 * 2 ** 20 * 0.3),
      exportQueueMaxBytes: Math.floor(432 * 2 ** 20 * 0.08),
      maxNestingDepth: 64,
      maxJsonValues: 2_000_000,
      maxServicesPerCorrelation: 64,
      exportRetryMaxElapsedSeconds: 300,
      limits: { attributeValueLength: 1024, attributeCount: 128, bodyLength: 65_536, serviceNameLength: 256 },
    });
    expect(loadConfig({}, { heapLimitBytes: 4 * 2 ** 30 }).maxStoreBytes).toBeGreaterThan(small.maxStoreBytes);
    // A small heap still takes one full body and its decompressed copy.
    expect(loadConfig({}, { heapLimitBytes: 64 * 2 ** 20 }).maxInflightBytes).toBe(32 * 2 ** 20);
    expect(loadConfig({ ATTRIBUTE_VALUE_LENGTH_LIMIT: '64' }).limits.attributeValueLength).toBe(64);
  });

  it('refuses an in-flight budget that a full body could not fit, and service names longer than queries take', () => {
    expect(errorOf({ MAX_BODY_BYTES: '1048576', MAX_INFLIGHT_BYTES: '1048576' }).message).toBe(
      'MAX_INFLIGHT_BYTES: must be at least twice MAX_BODY_BYTES (2097152): a full body and its decompressed copy must fit',
    );
    expect(errorOf({ SERVICE_NAME_LENGTH_LIMIT: '1000' }).variable).toBe('SERVICE_NAME_LENGTH_LIMIT');
    expect(errorOf({ MAX_NESTING_DEPTH: '2' }).variable).toBe('MAX_NESTING_DEPTH');
  });

  it('reads EXPORT_RECEIVED_LOGS as a boolean', () => {
    expect(loadConfig({ EXPORT_RECEIVED_LOGS: 'true' }).exportReceivedLogs).toBe(true);
    expect(errorOf({ EXPORT_RECEIVED_LOGS: 'maybe' }).variable).toBe('EXPORT_RECEIVED_LOGS');
  });
});
