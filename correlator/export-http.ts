// One POST with a timeout, folded into a SendResult: connection errors and timeouts are retryable.
import { resultOfStatus, type SendResult } from './export-queue.js';

export async function post(
  url: string,
  body: string | Uint8Array<ArrayBuffer>,
  headers: Record<string, string>,
  timeoutMs = 10_000,
): Promise<SendResult> {
  try {
    const res = await fetch(url, { method: 'POST', body, headers, signal: AbortSignal.timeout(timeoutMs) });
    const text = res.ok ? '' : await res.text().catch(() => '');
    if (res.ok) await res.arrayBuffer().catch(() => undefined);
    return resultOfStatus(res.status, text, res.headers.get('retry-after'));
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    return {
      ok: false,
      retryable: true,
      message: `${(err as Error).message}${cause ? ` (${cause.code ?? cause.message})` : ''}`,
    };
  }
}
