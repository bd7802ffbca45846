// Command-line flags through node:util's parseArgs, with errors that name the flag. parseArgs runs
// leniently (strict: false, tokens) so that every mistake is collected and worded here, instead of
// stopping at the first with Node's own message.
import { parseArgs } from 'node:util';

export interface FlagSpec {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  /** Another spelling of this flag: its values go there (kubectl's --filename for --file). */
  aliasOf?: string;
}
export type Flags = Record<string, FlagSpec>;

type Value<S extends FlagSpec> = S['type'] extends 'boolean' ? boolean : S['multiple'] extends true ? string[] : string;
export type FlagValues<F extends Flags> = { [K in keyof F]?: Value<F[K]> };

export interface Parsed<F extends Flags> {
  values: FlagValues<F>;
  positionals: string[];
  /** One line per mistake, each naming the flag or argument; empty when all is well. */
  errors: string[];
}

/** `-f/--file, --namespace`: the flags, as a user types them. */
export function flagList(flags: Flags): string {
  return Object.entries(flags)
    .map(([name, f]) => (f.short ? `-${f.short}/--${name}` : `--${name}`))
    .join(', ');
}

export function parseFlags<F extends Flags>(
  args: readonly string[],
  flags: F,
  opts: { positionals?: boolean } = {},
): Parsed<F> {
  const { tokens } = parseArgs({
    args: [...args],
    options: Object.fromEntries(
      Object.entries(flags).map(([name, { type, short, multiple }]) => [
        name,
        { type, multiple: multiple ?? false, ...(short ? { short } : {}) },
      ]),
    ),
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const values: Record<string, string | string[] | boolean> = {};
  const positionals: string[] = [];
  const errors: string[] = [];
  for (const t of tokens) {
    if (t.kind === 'positional') {
      if (opts.positionals) positionals.push(t.value);
      else errors.push(`unexpected argument "${t.value}"`);
      continue;
    }
    if (t.kind !== 'option') continue;
    const spec = Object.hasOwn(flags, t.name) ? flags[t.name] : undefined;
    if (!spec) {
      errors.push(`unknown flag ${t.rawName} (known: ${flagList(flags)})`);
      continue;
    }
    if (spec.type === 'boolean') {
      if (t.value !== undefined) errors.push(`${t.rawName} takes no value, got "${t.value}"`);
      else values[spec.aliasOf ?? t.name] = true;
      continue;
    }
    if (t.value === undefined) {
      errors.push(`${t.rawName} needs a value`);
      continue;
    }
    // `-f --namespace x`: the flag after -f is not its value.
    if (!t.inlineValue && t.value.startsWith('-') && t.value !== '-') {
      errors.push(`${t.rawName} needs a value, got the flag ${t.value} (write --${t.name}=${t.value} if you mean it)`);
      continue;
    }
    const key = spec.aliasOf ?? t.name;
    if (spec.multiple) values[key] = [...((values[key] as string[] | undefined) ?? []), t.value];
    else values[key] = t.value;
  }
  return { values: values as FlagValues<F>, positionals, errors };
}
