// Alertmanager's webhook payload (version 4), checked field by field: a body that is not one is
// refused whole (400) with the field named, before anything is decided.

export interface WebhookAlert {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt?: string;
  fingerprint: string;
  generatorURL?: string;
}
export interface WebhookPayload {
  version: '4';
  receiver?: string;
  status?: string;
  groupKey?: string;
  alerts: WebhookAlert[];
}

export type Parsed = { ok: true; payload: WebhookPayload } | { ok: false; error: string };

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const stringMap = (v: unknown): v is Record<string, string> =>
  isObject(v) && Object.values(v).every((x) => typeof x === 'string');

export function parsePayload(body: string): Parsed {
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch (err) {
    return { ok: false, error: `body is not JSON: ${(err as Error).message}` };
  }
  if (!isObject(doc)) return { ok: false, error: 'body must be a JSON object' };
  if (doc.version !== '4') return { ok: false, error: `version: must be "4", got ${JSON.stringify(doc.version)}` };
  if (!Array.isArray(doc.alerts)) return { ok: false, error: 'alerts: must be an array' };
  const alerts: WebhookAlert[] = [];
  for (const [i, a] of doc.alerts.entries()) {
    const at = `alerts[${i}]`;
    if (!isObject(a)) return { ok: false, error: `${at}: must be an object` };
    if (a.status !== 'firing' && a.status !== 'resolved')
      return { ok: false, error: `${at}.status: must be "firing" or "resolved"` };
    if (!stringMap(a.labels)) return { ok: false, error: `${at}.labels: must be an object of strings` };
    if (a.annotations !== undefined && !stringMap(a.annotations))
      return { ok: false, error: `${at}.annotations: must be an object of strings` };
    if (typeof a.fingerprint !== 'string' || a.fingerprint === '')
      return { ok: false, error: `${at}.fingerprint: required` };
    if (typeof a.startsAt !== 'string' || Number.isNaN(Date.parse(a.startsAt)))
      return { ok: false, error: `${at}.startsAt: must be an RFC 3339 time` };
    alerts.push({
      status: a.status,
      labels: a.labels,
      annotations: (a.annotations as Record<string, string> | undefined) ?? {},
      startsAt: a.startsAt,
      endsAt: typeof a.endsAt === 'string' ? a.endsAt : undefined,
      fingerprint: a.fingerprint,
      generatorURL: typeof a.generatorURL === 'string' ? a.generatorURL : undefined,
    });
  }
  return {
    ok: true,
    payload: {
      version: '4',
      receiver: typeof doc.receiver === 'string' ? doc.receiver : undefined,
      status: typeof doc.status === 'string' ? doc.status : undefined,
      groupKey: typeof doc.groupKey === 'string' ? doc.groupKey : undefined,
      alerts,
    },
  };
}
