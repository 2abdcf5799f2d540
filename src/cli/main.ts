#!/usr/bin/env node
/**
 * Entry point: parses argv with yargs and hands each command to its module. Command modules keep
 * their heavy imports (AWS SDK, ws) inside their handlers, so `connect` starts fast.
 */
import './young-generation.js'; // first: before anything allocates
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { EXIT_CODES } from '../errors.js';
import { printable } from '../printable.js';
import { commands } from './commands/index.js';
import { VERSION } from '../version.js';

export async function main(argv: string[]): Promise<void> {
  // The SDK warns on stderr about Node versions it will drop; that is for SDK users, not ours
  // (the packaged binary carries its own Node).
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
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
      // Usage errors: one line with the hint to --help, exit code "usage". Never help text on stdout.
      process.stderr.write(`${usageLine(message, argv)}\n`);
      process.exit(EXIT_CODES.usage);
    });
  for (const command of commands) parser.command(command);
  await parser.parseAsync();
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

await main(hideBin(process.argv));
