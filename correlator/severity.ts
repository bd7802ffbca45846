// Log severity from OTLP's severity_text and severity_number, the same for every decoder.
import type { Severity } from './model.js';

const SEVERITY_ALIASES: Readonly<Record<string, Severity>> = {
  TRACE: 'TRACE',
  DEBUG: 'DEBUG',
  INFO: 'INFO',
  INFORMATION: 'INFO',
  NOTICE: 'INFO',
  WARN: 'WARN',
  WARNING: 'WARN',
  ERROR: 'ERROR',
  ERR: 'ERROR',
  FATAL: 'FATAL',
  CRITICAL: 'FATAL',
  CRIT: 'FATAL',
  EMERG: 'FATAL',
  ALERT: 'FATAL',
};
export const BY_NUMBER: readonly Severity[] = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'];

/** Text if it names a known level, else the number's range (1-4 TRACE ... 21-24 FATAL). */
export function severityOf(text: unknown, num: number): Severity {
  if (typeof text === 'string' && text !== '') {
    const known = SEVERITY_ALIASES[text.toUpperCase()];
    if (known) return known;
  }
  if (num >= 1 && num <= 24) return BY_NUMBER[Math.floor((num - 1) / 4)];
  return 'UNSPECIFIED';
}
