import type { CommandModule } from 'yargs';
import { SsmProxyError } from '../../errors.js';
import { checkTargetId, parsePort, parseSeconds } from '../../input-checks.js';
import { single, withAwsOptions, type AwsArgs } from '../network-options.js';
import { runCommand } from '../run-command.js';

/** What yargs hands over: every value as the user typed it. */
export interface ConnectRawArgs extends AwsArgs {
  target?: string;
  port?: string;
  'document-name': string;
  verbose: number;
  'log-file'?: string;
  'handshake-timeout': string;
  'reconnect-timeout': string;
  /** auto: sign in to AWS SSO right here when needed and stderr is a terminal; never: fail fast. */
  login?: 'auto' | 'never';
}

/** The checked arguments runConnect works with. */
export interface ConnectArgs extends AwsArgs {
  target: string;
  port: number;
  'document-name': string;
  verbose: number;
  'log-file'?: string;
  'handshake-timeout': number;
  'reconnect-timeout': number;
  login?: 'auto' | 'never';
}

export const connectCommand: CommandModule<object, ConnectRawArgs> = {
  command: 'connect [target] [port]',
  describe: 'Open a Session Manager port session and pipe it to stdin/stdout (use as ssh ProxyCommand)',
  builder: (y) =>
    withAwsOptions(y, { from: '' })
      .positional('target', { type: 'string', describe: 'Instance or managed-node id (i-…, mi-…); or --target' })
      .positional('port', { type: 'string', describe: 'Port on the target (default 22); or --port' })
      .option('document-name', { type: 'string', default: 'AWS-StartSSHSession', describe: 'Session document' })
      .option('verbose', { alias: 'v', type: 'count', describe: 'Log progress to stderr (-vv: protocol detail)' })
      .option('log-file', { type: 'string', describe: 'Write the log to this file instead of stderr' })
      .option('handshake-timeout', { type: 'string', default: '30', describe: 'Seconds to wait for the agent to complete the session handshake' })
      .option('reconnect-timeout', { type: 'string', default: '300', describe: 'Seconds to keep resuming a dropped data channel before giving up' })
      .option('login', {
        choices: ['auto', 'never'] as const,
        default: 'auto' as const,
        describe: 'SSO sign-in when the token is missing or expired: auto = device login on the terminal (stderr), never = fail',
      }),
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
 * Target, port and timeouts checked as typed, before any file or network: a positional and a
 * different flag for the same value are a conflict (yargs would keep the positional silently).
 */
export function checkConnectArgs(args: ConnectRawArgs, argv: readonly string[]): ConnectArgs {
  const targetFlag = flagValue(argv, 'target');
  const portFlag = flagValue(argv, 'port');
  const target = single(args.target, '--target');
  const port = single(args.port, '--port');
  if (targetFlag !== undefined && target !== undefined && targetFlag !== target) {
    throw new SsmProxyError('usage', `the target is given twice, '${target}' and --target '${targetFlag}'; give it once`);
  }
  if (portFlag !== undefined && port !== undefined && portFlag !== port) {
    throw new SsmProxyError('usage', `the port is given twice, '${port}' and --port '${portFlag}'; give it once`);
  }
  const seconds = (name: 'handshake-timeout' | 'reconnect-timeout', max: number) => parseSeconds(single(args[name], `--${name}`) ?? '', `from --${name}`, max);
  return {
    ...args,
    target: checkTargetId(target ?? '', 'the first argument or --target'),
    port: port === undefined ? 22 : parsePort(port, 'the second argument or --port'),
    'document-name': single(args['document-name'], '--document-name') ?? 'AWS-StartSSHSession',
    'log-file': single(args['log-file'], '--log-file'),
    'handshake-timeout': seconds('handshake-timeout', 3600),
    'reconnect-timeout': seconds('reconnect-timeout', 86_400),
  };
}

/** The value of `--name v` / `--name=v` in the raw argv (before `--`), if given. */
function flagValue(argv: readonly string[], name: string): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') break;
    if (arg === `--${name}`) return argv[i + 1];
    if (arg.startsWith(`--${name}=`)) return arg.slice(name.length + 3);
  }
  return undefined;
}
