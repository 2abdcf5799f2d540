import type { CommandModule } from 'yargs';
import { checkTargetId, parsePort } from '../../input-checks.js';
import { single } from '../network-options.js';
import { runCommand } from '../run-command.js';
import { checkSessionArgs, positionalOrFlag, withSessionOptions, type SessionArgs, type SessionRawArgs } from '../session-options.js';

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

export const connectCommand: CommandModule<object, ConnectRawArgs> = {
  command: 'connect [target] [port]',
  describe: 'Open a Session Manager port session and pipe it to stdin/stdout (use as ssh ProxyCommand)',
  builder: (y) =>
    withSessionOptions(y, { from: '' })
      .positional('target', { type: 'string', describe: 'Instance or managed-node id (i-…, mi-…); or --target' })
      .positional('port', { type: 'string', describe: 'Port on the target (default 22); or --port' })
      .option('document-name', { type: 'string', default: 'AWS-StartSSHSession', describe: 'Session document' }),
  handler: async (args) => {
    await runCommand(async () => {
      const checked = checkConnectArgs(args, process.argv.slice(2));
      const { runConnect } = await import('../connect-main.js');
      return runConnect(checked);
    });
    // stdin may still hold the event loop open; the session is over and stdout was flushed.
    process.exit();
  },
};

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
