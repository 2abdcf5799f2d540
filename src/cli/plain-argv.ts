import type { OptionSpec, OptionTable } from './option-table.js';

/** A command as the fast path needs to know it: its name, its positionals in order, its options. */
export interface PlainCommand {
  name: string;
  /** Positional names in order; each may also be given as `--name value`. */
  positionals: readonly string[];
  options: OptionTable;
}

/**
 * The command line read without yargs (which costs about 100 ms of start-up), only when every word
 * is understood exactly as yargs would read it: the command's name first, then declared long
 * options as `--name value` or `--name=value` (each at most once), counts as `--name` or `-v`,
 * `-vv`…, and at most as many positionals as declared. Anything else — help, version, unknown or
 * repeated options, `--`, camelCase or `--no-` forms, values that start with `-` or a quote (which
 * yargs reads its own way), a missing value, a value outside `choices` — returns undefined, and
 * the caller hands the line to yargs, so every message and exit code stays yargs'.
 *
 * The result has the shape yargs hands a command handler, for the keys the command reads: every
 * option given or defaulted, counts as numbers, positionals as typed (a positional wins over the
 * same name given as a flag, as in yargs).
 */
export function parsePlainArgv(argv: readonly string[], command: PlainCommand): Record<string, string | number> | undefined {
  if (argv[0] !== command.name) return undefined;
  const { options } = command;
  const values: Record<string, string | number> = {};
  const given = new Set<string>();
  const positionals: string[] = [];
  for (let i = 1; i < argv.length; i++) {
    const word = argv[i]!;
    if (!word.startsWith('-')) {
      if (!plainValue(word)) return undefined;
      positionals.push(word);
      continue;
    }
    const short = /^-([a-zA-Z])\1*$/.exec(word);
    if (short) {
      const name = Object.keys(options).find((key) => options[key]!.alias === short[1]);
      if (name === undefined || options[name]!.type !== 'count') return undefined;
      values[name] = ((values[name] as number | undefined) ?? 0) + word.length - 1;
      continue;
    }
    if (!word.startsWith('--')) return undefined;
    const equals = word.indexOf('=');
    const name = equals < 0 ? word.slice(2) : word.slice(2, equals);
    const isPositional = command.positionals.includes(name);
    const spec: OptionSpec | undefined = Object.hasOwn(options, name) ? options[name]! : isPositional ? { type: 'string', describe: '' } : undefined;
    if (!spec) return undefined;
    if (spec.type === 'count') {
      if (equals >= 0) return undefined;
      values[name] = ((values[name] as number | undefined) ?? 0) + 1;
      continue;
    }
    if (given.has(name)) return undefined;
    given.add(name);
    let value: string;
    if (equals >= 0) value = word.slice(equals + 1);
    else {
      if (i + 1 >= argv.length) return undefined;
      value = argv[++i]!;
    }
    if (!plainValue(value)) return undefined;
    if (spec.choices && !spec.choices.includes(value)) return undefined;
    if (spec.type !== 'string' && !spec.choices) return undefined; // an untyped option yargs would coerce
    values[name] = value;
  }
  if (positionals.length > command.positionals.length) return undefined;
  for (const [index, value] of positionals.entries()) values[command.positionals[index]!] = value;
  for (const [name, spec] of Object.entries(options)) {
    if (values[name] !== undefined) continue;
    if (spec.type === 'count') values[name] = 0;
    else if (spec.default !== undefined) values[name] = spec.default;
  }
  return values;
}

/** A value yargs takes as typed: not an option-like word, no quotes for it to strip. */
function plainValue(value: string): boolean {
  return !value.startsWith('-') && !value.startsWith('"') && !value.startsWith("'");
}
