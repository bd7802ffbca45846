// One POST with a timeout, folded into a SendResult: connection errors and timeouts are retryable.
// What a destination answers is read only as far as an error message needs (ERROR_BODY_BYTES): a
// broken or hostile endpoint streaming an endless body must not fill the heap.
import { resultOfStatus, type SendResult } from './export-queue.js';

/** Bytes of an error answer kept for the log line and the retry decision. */
export const ERROR_BODY_BYTES = 4096;

/** Reads at most `max` bytes of a body, then cancels the rest. */
export async function readBounded(body: ReadableStream<Uint8Array> | null, max: number): Promise<string> {
  if (!body) return '';
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let n = 0;
  try {
    while (n < max) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      n += value.length;
    }
  } finally {
    reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks).subarray(0, max).toString('utf8');
}

export async function post(
  url: string,
  body: string | Uint8Array<ArrayBuffer>,
  headers: Record<string, string>,
  timeoutMs = 10_000,
): Promise<SendResult> {
  try {
    const res = await fetch(url, { method: 'POST', body, headers, signal: AbortSignal.timeout(timeoutMs) });
    // A success's body is never needed (read when short, so the connection is reused); an error's only its start.
    const text = await readBounded(res.body, ERROR_BODY_BYTES).catch(() => '');
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
