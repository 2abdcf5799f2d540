import type { Argv, Options } from 'yargs';

/**
 * One option as a command declares it: the few yargs features ssm-proxy uses, and nothing else,
 * so the plain-argv fast path (plain-argv.ts) understands every declaration it is given.
 */
export interface OptionSpec {
  type?: 'string' | 'count';
  /** A one-letter short form (`-v`); only for counts. */
  alias?: string;
  default?: string;
  choices?: readonly string[];
  describe: string;
}

/** Options by long name, in the order --help lists them. */
export type OptionTable = Readonly<Record<string, OptionSpec>>;

/** Declares a table's options on a yargs parser, in the table's order. */
export function declareOptions<T, U>(y: Argv<T>, table: OptionTable): Argv<T & U> {
  let parser: Argv<T> = y;
  for (const [name, spec] of Object.entries(table)) parser = parser.option(name, spec as Options);
  return parser as Argv<T & U>;
}
