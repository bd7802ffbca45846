// One pass over a JSON body's bytes before JSON.parse sees it: nesting depth, the number of values
// and the number of OTLP records, each against its cap. JSON.parse itself is iterative, but it
// builds every object first (3,000,000 empty records are ~200 MB of heap) and what walks its result
// recurses; refusing from the bytes allocates nothing. The scan follows the structure only as far
// as counting needs; whether the body is valid JSON is still JSON.parse's answer.
import { BadRequest, TooLarge, tooManyRecords } from './limits.js';

export type JsonShape = 'logs' | 'traces' | 'seed';

export interface JsonCaps {
  readonly maxDepth: number;
  readonly maxValues: number;
  readonly maxRecords: number;
}

// What a container is, as far as counting records goes.
const OTHER = 0;
const ROOT = 1;
const RESOURCE_LIST = 2;
const RESOURCE = 3;
const SCOPE_LIST = 4;
const SCOPE = 5;
const RECORD_LIST = 6;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

/** Keys that lead one level down towards the records, per shape and parent role. */
const KEYS: Readonly<Record<JsonShape, readonly (readonly [number, string, number])[]>> = {
  logs: [
    [ROOT, 'resourceLogs', RESOURCE_LIST],
    [RESOURCE, 'scopeLogs', SCOPE_LIST],
    [RESOURCE, 'instrumentationLibraryLogs', SCOPE_LIST],
    [SCOPE, 'logRecords', RECORD_LIST],
    [SCOPE, 'logs', RECORD_LIST],
  ],
  traces: [
    [ROOT, 'resourceSpans', RESOURCE_LIST],
    [RESOURCE, 'scopeSpans', SCOPE_LIST],
    [RESOURCE, 'instrumentationLibrarySpans', SCOPE_LIST],
    [SCOPE, 'spans', RECORD_LIST],
  ],
  seed: [[ROOT, 'records', RECORD_LIST]],
};

const KEY_BYTES = Object.fromEntries(
  Object.entries(KEYS).map(([shape, keys]) => [
    shape,
    keys.map(([parent, key, role]) => ({ parent, key, bytes: Buffer.from(key), role })),
  ]),
) as Record<JsonShape, { parent: number; key: string; bytes: Buffer; role: number }[]>;

/** Index of the quote that ends the string whose content starts at `from`. */
function stringEnd(buf: Buffer, from: number): number {
  // Most strings are short: a loop beats a native indexOf call per string; long ones use indexOf.
  const n = buf.length;
  let i = from;
  const short = Math.min(n, from + 64);
  while (i < short) {
    const c = buf[i];
    if (c === QUOTE) return i;
    i += c === BACKSLASH ? 2 : 1;
  }
  const start = i;
  while (true) {
    const q = buf.indexOf(QUOTE, i);
    if (q < 0) throw new BadRequest('body is not valid JSON: unterminated string');
    let backslashes = 0;
    for (let j = q - 1; j >= start && buf[j] === BACKSLASH; j--) backslashes++;
    if (backslashes % 2 === 0) return q;
    i = q + 1;
  }
}

/** Longest key that can name one of KEYS, escapes included (\uXXXX is six bytes for one character). */
const LONGEST_KEY = 6 * Math.max(...Object.values(KEYS).flatMap((keys) => keys.map(([, key]) => key.length)));

function roleOfKey(shape: JsonShape, parent: number, buf: Buffer, start: number, end: number): number {
  if ((parent !== ROOT && parent !== RESOURCE && parent !== SCOPE) || end - start > LONGEST_KEY) return OTHER;
  let escaped = false;
  for (let j = start; j < end; j++) if (buf[j] === BACKSLASH) escaped = true;
  let key: string | undefined;
  if (escaped) {
    try {
      key = JSON.parse(buf.toString('utf8', start - 1, end + 1)) as string;
    } catch (err) {
      throw new BadRequest(`body is not valid JSON: ${(err as Error).message}`);
    }
  }
  for (const k of KEY_BYTES[shape]) {
    if (k.parent !== parent) continue;
    const same =
      key !== undefined
        ? key === k.key
        : end - start === k.bytes.length && buf.compare(k.bytes, 0, k.bytes.length, start, end) === 0;
    if (same) return k.role;
  }
  return OTHER;
}

// Byte classes for the scan's dispatch.
// 0: anything else (letters, digits, and so on).
const C_SPACE = 1;
const C_QUOTE = 2;
const C_OPEN_OBJECT = 3;
const C_OPEN_ARRAY = 4;
const C_CLOSE = 5;
const C_COMMA = 6;
const C_COLON = 7;
const CLASS = new Uint8Array(256);
for (const c of [0x20, 0x0a, 0x0d, 0x09]) CLASS[c] = C_SPACE;
CLASS[QUOTE] = C_QUOTE;
CLASS[OPEN_OBJECT] = C_OPEN_OBJECT;
CLASS[OPEN_ARRAY] = C_OPEN_ARRAY;
CLASS[CLOSE_OBJECT] = C_CLOSE;
CLASS[CLOSE_ARRAY] = C_CLOSE;
CLASS[COMMA] = C_COMMA;
CLASS[COLON] = C_COLON;

// What the scan expects next.
const VALUE = 0;
const KEY = 1;
const AFTER = 2;

function tooDeep(max: number): BadRequest {
  return new BadRequest(`body is nested deeper than MAX_NESTING_DEPTH (${max})`);
}

/** Throws BadRequest (too deep) or TooLarge (too many values or records); returns the record count. */
export function scanJson(buf: Buffer, shape: JsonShape, caps: JsonCaps): number {
  const maxDepth = caps.maxDepth;
  const maxValues = caps.maxValues;
  const maxRecords = caps.maxRecords;
  // roles[d] and arrays[d] describe the container at depth d (0 = outside everything).
  const roles = new Uint8Array(maxDepth + 2);
  const arrays = new Uint8Array(maxDepth + 2);
  let depth = 0;
  let values = 0;
  let records = 0;
  let expect = VALUE;
  /** The role a value gets from the key before it. */
  let keyRole = OTHER;
  const n = buf.length;
  let i = 0;

  while (i < n) {
    const c = buf[i];
    const cls = CLASS[c];
    if (cls === C_SPACE) {
      i++;
      continue;
    }
    if (expect === AFTER) {
      // After a value or key: a separator or a close.
      if (cls === C_COMMA) expect = arrays[depth] === 1 ? VALUE : KEY;
      else if (cls === C_COLON) expect = VALUE;
      else if (cls === C_CLOSE) {
        if (depth > 0) depth--;
      } else if (cls === C_QUOTE) i = stringEnd(buf, i + 1);
      // Anything else is not JSON; JSON.parse names it.
      i++;
      continue;
    }
    if (expect === KEY) {
      if (cls === C_QUOTE) {
        const end = stringEnd(buf, i + 1);
        const parent = roles[depth];
        keyRole =
          parent === ROOT || parent === RESOURCE || parent === SCOPE
            ? roleOfKey(shape, parent, buf, i + 1, end)
            : OTHER;
        i = end + 1;
        expect = AFTER;
        continue;
      }
      if (cls === C_CLOSE) {
        if (depth > 0) depth--;
        expect = AFTER;
        i++;
        continue;
      }
      throw new BadRequest(`body is not valid JSON: expected a key at offset ${i}`);
    }
    // A value starts here (or an empty array ends).
    const inArray = arrays[depth] === 1;
    if (c === CLOSE_ARRAY && inArray) {
      depth--;
      expect = AFTER;
      i++;
      continue;
    }
    if (++values > maxValues) {
      throw new TooLarge(`body has more than MAX_JSON_VALUES (${maxValues}) JSON values`, 'json_values');
    }
    const parent = roles[depth];
    if (inArray && parent === RECORD_LIST && ++records > maxRecords) throw tooManyRecords(maxRecords);
    expect = AFTER;
    if (cls === C_QUOTE) {
      i = stringEnd(buf, i + 1) + 1;
    } else if (cls === C_OPEN_OBJECT || cls === C_OPEN_ARRAY) {
      const role =
        depth === 0
          ? ROOT
          : !inArray
            ? keyRole
            : parent === RESOURCE_LIST
              ? RESOURCE
              : parent === SCOPE_LIST
                ? SCOPE
                : OTHER;
      if (++depth > maxDepth) throw tooDeep(maxDepth);
      roles[depth] = role;
      if (cls === C_OPEN_OBJECT) {
        arrays[depth] = 0;
        expect = KEY;
      } else {
        arrays[depth] = 1;
        expect = VALUE;
      }
      i++;
    } else {
      // A number, true, false or null: up to the next delimiter.
      i++;
      while (i < n) {
        const k = CLASS[buf[i]];
        if (k === C_COMMA || k === C_CLOSE || k === C_SPACE) break;
        i++;
      }
    }
  }
  return records;
}
