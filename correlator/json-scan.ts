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

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** Index of the quote that ends the string whose content starts at `from`. */
function stringEnd(buf: Buffer, from: number): number {
  let i = from;
  while (true) {
    const q = buf.indexOf(QUOTE, i);
    if (q < 0) throw new BadRequest('body is not valid JSON: unterminated string');
    let backslashes = 0;
    for (let j = q - 1; j >= from && buf[j] === BACKSLASH; j--) backslashes++;
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
  const key = escaped ? (JSON.parse(buf.toString('utf8', start - 1, end + 1)) as string) : undefined;
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

/** Throws BadRequest (too deep) or TooLarge (too many values or records); returns the record count. */
export function scanJson(buf: Buffer, shape: JsonShape, caps: JsonCaps): number {
  const roles = new Uint8Array(caps.maxDepth + 2);
  const arrays = new Uint8Array(caps.maxDepth + 2);
  let depth = 0;
  let values = 0;
  let records = 0;
  let expectValue = true;
  let expectKey = false;
  /** The role a value gets from the key before it. */
  let keyRole = OTHER;
  const n = buf.length;
  let i = 0;

  const open = (isArray: boolean, role: number) => {
    depth++;
    if (depth > caps.maxDepth) {
      throw new BadRequest(`body is nested deeper than MAX_NESTING_DEPTH (${caps.maxDepth})`);
    }
    roles[depth] = role;
    arrays[depth] = isArray ? 1 : 0;
  };
  const close = () => {
    if (depth > 0) depth--;
    expectKey = false;
    expectValue = false;
  };

  while (i < n) {
    const c = buf[i];
    if (isSpace(c)) {
      i++;
      continue;
    }
    if (expectKey) {
      expectKey = false;
      if (c === QUOTE) {
        const end = stringEnd(buf, i + 1);
        keyRole = roleOfKey(shape, roles[depth], buf, i + 1, end);
        i = end + 1;
        continue;
      }
      if (c === CLOSE_OBJECT) {
        close();
        i++;
        continue;
      }
      throw new BadRequest(`body is not valid JSON: expected a key at offset ${i}`);
    }
    if (expectValue) {
      if (c === CLOSE_ARRAY && depth > 0 && arrays[depth] === 1) {
        close();
        i++;
        continue;
      }
      expectValue = false;
      if (++values > caps.maxValues) {
        throw new TooLarge(`body has more than MAX_JSON_VALUES (${caps.maxValues}) JSON values`, 'json_values');
      }
      const parent = roles[depth];
      const inArray = depth > 0 && arrays[depth] === 1;
      if (inArray && parent === RECORD_LIST && ++records > caps.maxRecords) throw tooManyRecords(caps.maxRecords);
      const role =
        depth === 0
          ? ROOT
          : inArray
            ? parent === RESOURCE_LIST
              ? RESOURCE
              : parent === SCOPE_LIST
                ? SCOPE
                : OTHER
            : keyRole;
      if (c === OPEN_OBJECT) {
        open(false, role);
        expectKey = true;
        i++;
      } else if (c === OPEN_ARRAY) {
        open(true, role);
        expectValue = true;
        i++;
      } else if (c === QUOTE) {
        i = stringEnd(buf, i + 1) + 1;
      } else {
        // A number, true, false or null: up to the next delimiter.
        while (i < n) {
          const d = buf[i];
          if (d === COMMA || d === CLOSE_ARRAY || d === CLOSE_OBJECT || isSpace(d)) break;
          i++;
        }
      }
      continue;
    }
    if (c === COMMA) {
      if (arrays[depth] === 1) expectValue = true;
      else expectKey = true;
    } else if (c === COLON) {
      expectValue = true;
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) {
      close();
    } else if (c === QUOTE) {
      i = stringEnd(buf, i + 1);
    }
    // Anything else is not JSON; JSON.parse names it.
    i++;
  }
  return records;
}
