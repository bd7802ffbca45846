// The operator's configuration from env and flags, validated once at start with messages that name
// the variable or flag. Pure: main.ts passes process.env and argv in.
import { hostname } from 'node:os';
import { parseImagePrefixes } from '../desired/stack/image-policy.js';
import { type Flags, parseFlags } from '../lib/args.js';
import type { OperatorConfig } from './operator.js';
import type { RemediationConfig } from './remediation.js';

export interface RunConfig {
  kubeconfig?: string;
  logLevel: string;
  operator: OperatorConfig;
}

/** Each flag and the variable it overrides. */
const FLAGS: Record<string, string> = {
  kubeconfig: 'KUBECONFIG',
  namespaces: 'VIGIL_NAMESPACES',
  workers: 'VIGIL_WORKERS',
  'metrics-port': 'VIGIL_METRICS_PORT',
  'leader-elect': 'VIGIL_LEADER_ELECT',
  'leader-election-namespace': 'POD_NAMESPACE',
  identity: 'POD_NAME',
  'resync-seconds': 'VIGIL_RESYNC_SECONDS',
  'watch-timeout-seconds': 'VIGIL_WATCH_TIMEOUT_SECONDS',
  'log-level': 'LOG_LEVEL',
  'prometheus-url': 'VIGIL_PROMETHEUS_URL',
  'budget-interval-seconds': 'VIGIL_BUDGET_INTERVAL_SECONDS',
  'remediation-token-secret': 'VIGIL_REMEDIATION_TOKEN_SECRET',
  'remediation-port': 'VIGIL_REMEDIATION_PORT',
  'remediation-url': 'VIGIL_REMEDIATION_URL',
  'alertmanager-url': 'VIGIL_ALERTMANAGER_URL',
  'allowed-image-prefixes': 'VIGIL_ALLOWED_IMAGE_PREFIXES',
};
export const OPERATOR_FLAGS = Object.keys(FLAGS).map((f) => `--${f}`);
const FLAG_SPECS: Flags = Object.fromEntries(Object.keys(FLAGS).map((f) => [f, { type: 'string' }]));

export function loadConfig(env: Record<string, string | undefined>, argv: string[]): RunConfig {
  const v: Record<string, string | undefined> = { ...env };
  const flags = parseFlags(argv, FLAG_SPECS);
  const errors: string[] = [...flags.errors];
  for (const [flag, value] of Object.entries(flags.values)) v[FLAGS[flag]] = value as string;
  const int = (name: string, def: number, min: number, max: number): number => {
    const raw = v[name];
    if (raw === undefined || raw === '') return def;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      errors.push(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
      return def;
    }
    return n;
  };
  const bool = (name: string, def: boolean): boolean => {
    const raw = v[name];
    if (raw === undefined || raw === '') return def;
    if (['true', '1', 'yes'].includes(raw)) return true;
    if (['false', '0', 'no'].includes(raw)) return false;
    errors.push(`${name} must be true or false, got "${raw}"`);
    return def;
  };
  const url = (name: string): string | undefined => {
    const raw = v[name];
    if (!raw) return undefined;
    if (!/^https?:\/\/[^\s]+$/.test(raw)) errors.push(`${name} must be an http(s) URL, got "${raw}"`);
    return raw;
  };
  const namespaces = v.VIGIL_NAMESPACES?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const ns of namespaces ?? []) {
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(ns)) errors.push(`VIGIL_NAMESPACES: "${ns}" is not a namespace name`);
  }
  const logLevel = v.LOG_LEVEL ?? 'info';
  if (!['trace', 'debug', 'info', 'warn', 'error', 'fatal'].includes(logLevel)) {
    errors.push(`LOG_LEVEL must be one of trace, debug, info, warn, error, fatal, got "${logLevel}"`);
  }
  const images = parseImagePrefixes(v.VIGIL_ALLOWED_IMAGE_PREFIXES);
  for (const e of images.errors) errors.push(`VIGIL_ALLOWED_IMAGE_PREFIXES: ${e}`);
  const leaderElect = bool('VIGIL_LEADER_ELECT', false);
  const remediation = remediationConfig(v, errors, url);
  const config: RunConfig = {
    kubeconfig: v.KUBECONFIG || undefined,
    logLevel,
    operator: {
      namespaces: namespaces?.length ? namespaces : undefined,
      workers: int('VIGIL_WORKERS', 4, 1, 64),
      healthPort: int('VIGIL_METRICS_PORT', 8080, 0, 65535),
      resyncMs: int('VIGIL_RESYNC_SECONDS', 600, 10, 86400) * 1000,
      watchTimeoutSeconds: int('VIGIL_WATCH_TIMEOUT_SECONDS', 300, 5, 3600),
      budgetIntervalMs: int('VIGIL_BUDGET_INTERVAL_SECONDS', 120, 5, 3600) * 1000,
      prometheusUrl: url('VIGIL_PROMETHEUS_URL'),
      remediation,
      allowedImagePrefixes: images.prefixes.length ? images.prefixes : undefined,
      leaderElection: leaderElect
        ? {
            namespace: v.POD_NAMESPACE || 'vigil-system',
            name: 'vigil-operator',
            identity: v.POD_NAME || `${hostname()}-${process.pid}`,
          }
        : undefined,
    },
  };
  if (errors.length) throw new Error(`invalid configuration:\n  ${errors.join('\n  ')}`);
  return config;
}

/**
 * The remediation receiver is on when its token Secret is named: VIGIL_REMEDIATION_TOKEN_SECRET is
 * namespace/name[:key] (key `token`), VIGIL_REMEDIATION_PORT is [host:]port (0.0.0.0:9444).
 */
function remediationConfig(
  v: Record<string, string | undefined>,
  errors: string[],
  url: (name: string) => string | undefined,
): RemediationConfig | undefined {
  const secret = v.VIGIL_REMEDIATION_TOKEN_SECRET;
  if (!secret) return undefined;
  const m = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/([a-z0-9]([-a-z0-9.]*[a-z0-9])?)(:([-._a-zA-Z0-9]+))?$/.exec(secret);
  if (!m) errors.push(`VIGIL_REMEDIATION_TOKEN_SECRET must be namespace/name or namespace/name:key, got "${secret}"`);
  const rawPort = v.VIGIL_REMEDIATION_PORT || '9444';
  const p = /^(?:(\d{1,3}(?:\.\d{1,3}){3}):)?(\d{1,5})$/.exec(rawPort);
  const port = p ? Number(p[2]) : Number.NaN;
  if (!p || port > 65535) errors.push(`VIGIL_REMEDIATION_PORT must be [host:]port, got "${rawPort}"`);
  const ns = v.POD_NAMESPACE || 'vigil-system';
  return {
    host: p?.[1] ?? '0.0.0.0',
    port: Number.isNaN(port) ? 0 : port,
    tokenSecret: { namespace: m?.[1] ?? '', name: m?.[3] ?? '', key: m?.[6] ?? 'token' },
    url: url('VIGIL_REMEDIATION_URL') ?? `http://vigil-operator.${ns}.svc:${Number.isNaN(port) ? 9444 : port}`,
    alertmanagerUrl: url('VIGIL_ALERTMANAGER_URL'),
  };
}
