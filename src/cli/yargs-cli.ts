import yargs, { type Argv, type CommandModule } from 'yargs';
import { EXIT_CODES } from '../errors.js';
import { printable } from '../printable.js';
import { commands } from './commands/index.js';
import { VERSION } from '../version.js';

/**
 * Every command line the fast path of main.ts does not take: yargs parses it and hands each command
 * to its module, or prints help, the version, or one usage line (exit 2).
 */
export async function runYargs(argv: string[]): Promise<void> {
  await cliParser(argv, commands, (message) => {
    // Usage errors: one line with the hint to --help, exit code "usage". Never help text on stdout.
    process.stderr.write(`${usageLine(message, argv)}\n`);
    process.exit(EXIT_CODES.usage);
  }).parseAsync();
}

/** The CLI's yargs configuration over the given command modules (the test of the fast path builds it too). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function cliParser(argv: string[], modules: readonly CommandModule<any, any>[], onUsageError: (message: string) => void): Argv {
  const parser = yargs(argv)
    .scriptName('ssm-proxy')
    .usage('$0 <command> [options]\n\nReach private EC2 hosts with ssh, scp and rsync through AWS Systems Manager Session Manager.')
    .version(VERSION)
    .help()
    .alias('h', 'help')
    .strict()
    .demandCommand(1, 'name a command')
    .recommendCommands()
    .wrap(Math.min(100, process.stderr.columns ?? 100))
    .fail((message, error) => {
      if (error) throw error;
      onUsageError(message);
    });
  for (const module of modules) parser.command(module);
  return parser;
}

/**
 * yargs' failure message as one line: what is wrong, then where help is. yargs' recommendCommands
 * says only "Did you mean …?"; name the command that was not found too.
 */
function usageLine(message: string, argv: readonly string[]): string {
  const words = withoutCamelCaseTwins(message.replace(/\s*\n\s*/g, ' ').trim());
  const first = argv.find((arg) => !arg.startsWith('-'));
  const command = first !== undefined && commands.some((module) => commandName(module) === first) ? first : undefined;
  const text = /^Did you mean /.test(words) && first !== undefined ? `unknown command '${first}'; ${words.replace(/^Did/, 'did')}` : words;
  return `ssm-proxy: ${printable(text)} (see 'ssm-proxy ${command ? `${command} ` : ''}--help')`;
}

/** yargs lists an unknown `--no-such` both as `such` and `such`'s camelCase twin: list it once. */
function withoutCamelCaseTwins(message: string): string {
  const match = /^Unknown arguments: (.*)$/.exec(message);
  if (!match) return message;
  const names = match[1]!.split(', ');
  const camel = (name: string) => name.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());
  const kept = names.filter((name) => !names.some((other) => other !== name && camel(other) === name));
  return `Unknown argument${kept.length === 1 ? '' : 's'}: ${kept.join(', ')}`;
}

function commandName(module: (typeof commands)[number]): string | undefined {
  const spec = Array.isArray(module.command) ? module.command[0] : module.command;
  return typeof spec === 'string' ? spec.split(' ')[0] : undefined;
}
