import type { CommandModule } from 'yargs';
import { checkTargetId, parsePort } from '../../input-checks.js';
import { single } from '../network-options.js';
import { declareOptions, type OptionTable } from '../option-table.js';
import type { PlainCommand } from '../plain-argv.js';
import { runCommand } from '../run-command.js';
import { checkSessionArgs, positionalOrFlag, sessionOptions, type SessionArgs, type SessionRawArgs } from '../session-options.js';

/** What yargs hands over: every value as the user typed it. */
export interface ConnectRawArgs extends SessionRawArgs {
  target?: string;
  port?: string;
  'document-name': string;
}

/** The checked arguments runConnect works with. */
export interface ConnectArgs extends SessionArgs {
  target: string;
  port: number;
  'document-name': string;
}

/** connect's positionals and options: the one declaration both yargs and the fast path (main.ts) read. */
export const CONNECT_POSITIONALS = {
  target: { type: 'string', describe: 'Instance or managed-node id (i-…, mi-…); or --target' },
  port: { type: 'string', describe: 'Port on the target (default 22); or --port' },
} as const satisfies OptionTable;

export const CONNECT_OPTIONS = {
  ...sessionOptions({ from: '' }),
  'document-name': { type: 'string', default: 'AWS-StartSSHSession', describe: 'Session document' },
} as const satisfies OptionTable;

export const CONNECT_PLAIN: PlainCommand = { name: 'connect', positionals: Object.keys(CONNECT_POSITIONALS), options: CONNECT_OPTIONS };

export const connectCommand: CommandModule<object, ConnectRawArgs> = {
  command: 'connect [target] [port]',
  describe: 'Open a Session Manager port session and pipe it to stdin/stdout (use as ssh ProxyCommand)',
  builder: (y) => {
    // Declared in the order --help has always listed them: session options, positionals, document.
    const { 'document-name': documentName, ...session } = CONNECT_OPTIONS;
    return declareOptions<object, ConnectRawArgs>(
      declareOptions(y, session).positional('target', CONNECT_POSITIONALS.target).positional('port', CONNECT_POSITIONALS.port),
      { 'document-name': documentName },
    );
  },
  handler: (args) => runConnectCommand(args, process.argv.slice(2)),
};

/**
 * Checks the arguments, runs the session and ends the process with its exit code; the same for
 * yargs' handler and main.ts's fast path. `argv` is the command line after the program.
 */
export async function runConnectCommand(args: ConnectRawArgs, argv: readonly string[]): Promise<void> {
  await runCommand(async () => {
    const checked = checkConnectArgs(args, argv);
    const { runConnect } = await import('../connect-main.js');
    return runConnect(checked);
  });
  // stdin may still hold the event loop open; the session is over and stdout was flushed.
  process.exit();
}

/**
 * Target, port and the session options checked as typed, before any file or network: a positional
 * and a different flag for the same value are a conflict (yargs would keep the positional silently).
 */
export function checkConnectArgs(args: ConnectRawArgs, argv: readonly string[]): ConnectArgs {
  const target = positionalOrFlag(args.target, argv, 'target', 'target');
  const port = positionalOrFlag(args.port, argv, 'port', 'port');
  const checked = {
    target: checkTargetId(target ?? '', 'the first argument or --target'),
    port: port === undefined ? 22 : parsePort(port, 'the second argument or --port'),
    'document-name': single(args['document-name'], '--document-name') ?? 'AWS-StartSSHSession',
  };
  return { ...checkSessionArgs(args), ...checked };
}
