// Reads an SLO's live error budget from a Prometheus HTTP API. fetch is injected; no clock inside.
import { L_SLO, L_SLO_NAMESPACE, RECORD_BUDGET_REMAINING, RECORD_CURRENT_BURN_RATE } from '../desired/slo/index.js';

export interface Budget {
  /** Remaining share of the period's error budget, percent (may be negative once overspent). */
  remainingPercent: number;
  /** Current (5m) burn rate: 1 means the budget would last exactly the period. */
  burnRate: number;
}

export type Fetch = (
  url: string,
  init?: { signal?: AbortSignal; headers?: Record<string, string> },
) => Promise<{ ok: boolean; status: number; json(): Promise<unknown> }>;

async function instant(
  fetchFn: Fetch,
  base: string,
  query: string,
  timeoutMs: number,
  authorization: string | undefined,
): Promise<number | undefined> {
  const url = `${base.replace(/\/$/, '')}/api/v1/query?query=${encodeURIComponent(query)}`;
  const res = await fetchFn(url, {
    signal: AbortSignal.timeout(timeoutMs),
    ...(authorization && { headers: { authorization } }),
  });
  if (!res.ok) throw new Error(`Prometheus answered HTTP ${res.status}`);
  const body = (await res.json()) as { status: string; data?: { result?: { value: [number, string] }[] } };
  if (body.status !== 'success') throw new Error(`Prometheus query failed: ${JSON.stringify(body).slice(0, 200)}`);
  const v = body.data?.result?.[0]?.value?.[1];
  return v === undefined ? undefined : Number(v);
}

/**
 * undefined when Prometheus answers but has no values yet (rules not loaded, no traffic).
 * `authorization` is the header for a stack with basic auth on (controller/query-auth.ts).
 */
export async function readBudget(
  fetchFn: Fetch,
  prometheusUrl: string,
  namespace: string,
  slo: string,
  timeoutMs = 5000,
  authorization?: string,
): Promise<Budget | undefined> {
  const sel = `{${L_SLO}="${slo}",${L_SLO_NAMESPACE}="${namespace}"}`;
  const [remaining, burn] = await Promise.all([
    instant(fetchFn, prometheusUrl, `${RECORD_BUDGET_REMAINING}${sel}`, timeoutMs, authorization),
    instant(fetchFn, prometheusUrl, `${RECORD_CURRENT_BURN_RATE}${sel}`, timeoutMs, authorization),
  ]);
  if (remaining === undefined || !Number.isFinite(remaining)) return undefined;
  return { remainingPercent: remaining * 100, burnRate: burn !== undefined && Number.isFinite(burn) ? burn : 0 };
}

/**
 * Rounded for status: a budget that moves in the fourth decimal is not news, and writing it would
 * make an idle operator write every few minutes.
 */
export function budgetStatus(b: Budget): { remainingPercent: string; burnRate: string } {
  return { remainingPercent: b.remainingPercent.toFixed(1), burnRate: b.burnRate.toFixed(2) };
}
