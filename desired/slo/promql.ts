// Small PromQL helpers for rule generation: number and string literals, the `le` value of a
// threshold, and the check of user queries: first a structural pass that explains what people get
// wrong by hand (brackets, quotes, matcher shape, the {{window}} placeholder), then PromQL's own
// grammar (@prometheus-io/lezer-promql) over the whole expression, so that `vigil validate` and
// the operator name the field of a query Prometheus would refuse.

import { parser as promqlParser } from '@prometheus-io/lezer-promql';
import { DURATION } from '../../lib/durations.js';

/** A PromQL double-quoted string literal. Names and label values here are plain text. */
export function quote(s: string): string {
  return JSON.stringify(s);
}

/** `{a="x", b="y"}` */
export function matchers(labels: Record<string, string>): string {
  return `{${Object.entries(labels)
    .map(([k, v]) => `${k}=${quote(v)}`)
    .join(', ')}}`;
}

/**
 * A percent (99.95) as the ratios objective and error budget, computed with integers so that
 * 99.9 gives 0.999 and 0.001 exactly, not 0.9990000000000001 and 0.0010000000000000009.
 */
export function percentToRatios(percent: number): { objective: number; budget: number } {
  const m = /^\d+(?:\.(\d+))?$/.exec(String(percent));
  if (!m) return { objective: percent / 100, budget: (100 - percent) / 100 };
  const scale = 10 ** (m[1]?.length ?? 0);
  const good = Math.round(percent * scale);
  return { objective: good / (100 * scale), budget: (100 * scale - good) / (100 * scale) };
}

/** Rounds away float noise (0.30000000000000004 → 0.3) for numbers we derived ourselves. */
export function tidy(x: number): number {
  return Number(x.toPrecision(12));
}

/**
 * How Prometheus prints a float: Go's strconv.FormatFloat(f, 'g', -1, 64), which is what the Go
 * client writes into `le` and what Prometheus 3 starts from when it normalises `le` on ingestion.
 * It differs from JavaScript's String() only in when and how it uses an exponent (1e-05, 1e+06).
 */
export function formatGoFloat(x: number): string {
  if (x === Number.POSITIVE_INFINITY) return '+Inf';
  if (x === Number.NEGATIVE_INFINITY) return '-Inf';
  if (Number.isNaN(x)) return 'NaN';
  if (x === 0) return '0';
  const [mant, expStr] = x.toExponential().split('e');
  const exp = Number(expStr);
  if (exp < -4 || exp >= 6) {
    return `${mant}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  return String(x);
}

/**
 * The `le` values a bucket with upper bound `x` can carry. Prometheus 2 keeps what the client
 * wrote: Go clients write 1, Python and Java clients write 1.0. Prometheus 3 normalises every `le`
 * to the float form (1 → 1.0, 0.3 stays 0.3). So a whole number has two spellings, others one.
 */
export function leValues(x: number): string[] {
  const g = formatGoFloat(x);
  return /[.eI]|NaN/.test(g) ? [g] : [g, `${g}.0`];
}

/** The `le` matcher for a bucket bound, e.g. le="0.3" or le=~"1|1\\.0". */
export function leMatcher(x: number): string {
  const v = leValues(x);
  return v.length === 1 ? `le=${quote(v[0])}` : `le=~${quote(v.map((s) => s.replace(/\./g, '\\.')).join('|'))}`;
}

const LABEL_NAME = '[a-zA-Z_][a-zA-Z0-9_]*';
const STRING = '(?:"(?:[^"\\\\\\n]|\\\\.)*"|\'(?:[^\'\\\\\\n]|\\\\.)*\'|`[^`]*`)';
const MATCHER = `${LABEL_NAME}\\s*(?:=~|!~|!=|=)\\s*${STRING}`;
const MATCHER_LIST = new RegExp(`^\\s*(?:${MATCHER}(?:\\s*,\\s*${MATCHER})*\\s*,?)?\\s*$`);
const RANGE = new RegExp(`^\\s*${DURATION}\\s*(?::\\s*(?:${DURATION})?\\s*)?$`);
export const LABEL_NAME_RE = new RegExp(`^${LABEL_NAME}$`);
export const WINDOW_PLACEHOLDER = '{{window}}';

const CLOSERS: Record<string, string> = { '(': ')', '[': ']', '{': '}' };

/**
 * Structural problems of a PromQL expression, as sentences. With `template`, `{{window}}` is the
 * only placeholder allowed, it must stand inside a range selector, and it must appear at least once.
 */
export function promqlShapeProblems(expr: string, opts: { template: boolean }): string[] {
  const problems: string[] = [];
  if (expr.trim() === '') return ['must not be empty'];
  const stack: { ch: string; at: number }[] = [];
  let windows = 0;
  let i = 0;
  const at = (n: number) => `at character ${n + 1}`;
  while (i < expr.length) {
    const c = expr[i];
    if (c === '"' || c === "'" || c === '`') {
      const end = stringEnd(expr, i);
      if (end < 0) {
        problems.push(`unterminated string ${at(i)}`);
        return problems;
      }
      i = end + 1;
      continue;
    }
    if (c === '#') {
      const nl = expr.indexOf('\n', i);
      i = nl < 0 ? expr.length : nl + 1;
      continue;
    }
    if (c === '{' && expr[i + 1] === '{') {
      const close = expr.indexOf('}}', i);
      const body = close < 0 ? expr.slice(i) : expr.slice(i, close + 2);
      if (!opts.template || body.replace(/\s+/g, '') !== WINDOW_PLACEHOLDER) {
        problems.push(
          opts.template
            ? `unknown placeholder ${body} ${at(i)}: Vigil replaces only ${WINDOW_PLACEHOLDER}`
            : `unexpected ${body} ${at(i)}`,
        );
        return problems;
      }
      if (stack.at(-1)?.ch !== '[') {
        problems.push(
          `${WINDOW_PLACEHOLDER} ${at(i)} must stand inside a range selector, e.g. rate(x[${WINDOW_PLACEHOLDER}])`,
        );
      }
      windows++;
      i = close + 2;
      continue;
    }
    if (c in CLOSERS) {
      stack.push({ ch: c, at: i });
    } else if (c === ')' || c === ']' || c === '}') {
      const open = stack.pop();
      if (!open) {
        problems.push(`unexpected '${c}' ${at(i)}`);
        return problems;
      }
      if (CLOSERS[open.ch] !== c) {
        problems.push(`'${open.ch}' ${at(open.at)} is closed by '${c}' ${at(i)}`);
        return problems;
      }
      const body = expr.slice(open.at + 1, i);
      if (open.ch === '{' && !MATCHER_LIST.test(body)) {
        problems.push(`label matchers {${body}} ${at(open.at)} are not of the form {name="value", name=~"regex", ...}`);
      }
      if (open.ch === '[') {
        const d = body.split(WINDOW_PLACEHOLDER).join('5m');
        if (!RANGE.test(d)) problems.push(`range [${body}] ${at(open.at)} is not a duration such as [5m] or [1h:5m]`);
      }
    }
    i++;
  }
  for (const open of stack) problems.push(`'${open.ch}' ${at(open.at)} is never closed`);
  if (opts.template && windows === 0) {
    problems.push(`must contain ${WINDOW_PLACEHOLDER} in its range selectors, e.g. rate(x[${WINDOW_PLACEHOLDER}])`);
  }
  // Brackets, strings and placeholders are sound: let PromQL's own grammar (the one Prometheus's
  // web UI uses) read the whole expression, with each {{window}} standing for a real range.
  if (problems.length === 0) problems.push(...promqlSyntaxProblems(withWindow(expr, '5m')));
  return problems;
}

/** Where PromQL's grammar cannot read `expr`, as sentences (none when it parses). */
export function promqlSyntaxProblems(expr: string): string[] {
  let first = -1;
  promqlParser.parse(expr).iterate({
    enter: (node) => {
      if (first < 0 && node.type.isError) first = node.from;
      return first < 0;
    },
  });
  if (first < 0) return [];
  const near = expr.slice(first, first + 20).trim();
  // No character number: it would count in the expression with {{window}} filled in.
  return [near === '' ? 'is not valid PromQL: it ends where more is expected' : `is not valid PromQL near '${near}'`];
}

/** Problems of a bare label selector such as {job="checkout", code!~"5.."}. */
export function selectorShapeProblems(sel: string): string[] {
  const s = sel.trim();
  if (!s.startsWith('{') || !s.endsWith('}')) return ['must be label matchers in braces, e.g. {job="checkout"}'];
  const inner = s.slice(1, -1);
  if (!MATCHER_LIST.test(inner)) return ['must be label matchers in braces, e.g. {job="checkout", route!="/health"}'];
  const problems: string[] = [];
  for (const m of inner.matchAll(new RegExp(`(${LABEL_NAME})\\s*(?:=~|!~|!=|=)\\s*${STRING}`, 'g'))) {
    if (m[1] === 'le') problems.push('must not match on le: Vigil selects the threshold bucket itself');
    if (m[1] === '__name__')
      problems.push('must not match on __name__: the metric is spec.indicator.latency.histogram');
  }
  return problems;
}

function stringEnd(s: string, start: number): number {
  const q = s[start];
  for (let i = start + 1; i < s.length; i++) {
    if (q !== '`' && s[i] === '\\') i++;
    else if (s[i] === q) return i;
    else if (s[i] === '\n' && q !== '`') return -1;
  }
  return -1;
}

/**
 * Replaces every {{window}} (spaces allowed inside the braces) with a duration, and drops
 * comments: a `# …` at the end of a user's query would swallow the brackets Vigil puts around it.
 */
export function withWindow(template: string, window: string): string {
  return stripComments(template.replace(/\{\{\s*window\s*\}\}/g, window)).trim();
}

/** The expression without `# …` comments (strings are left alone). */
export function stripComments(expr: string): string {
  let out = '';
  let i = 0;
  while (i < expr.length) {
    const c = expr[i];
    if (c === '"' || c === "'" || c === '`') {
      const end = stringEnd(expr, i);
      const stop = end < 0 ? expr.length : end + 1;
      out += expr.slice(i, stop);
      i = stop;
    } else if (c === '#') {
      const nl = expr.indexOf('\n', i);
      i = nl < 0 ? expr.length : nl;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}
