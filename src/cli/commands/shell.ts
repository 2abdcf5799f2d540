import type { Argv, CommandModule } from 'yargs';
import { withNetworkOptions, type NetworkArgs } from '../network-options.js';
import { runCommand } from '../run-command.js';

export interface ShellArgs extends NetworkArgs {
  target?: string;
  profile?: string;
  region?: string;
  'document-name'?: string;
  /** AWS CLI forms: key=value shorthand or JSON (cli/session-parameters.ts). */
  parameters?: string | string[];
  'endpoint-url'?: string;
  'ssmmessages-endpoint'?: string;
  verbose: number;
  'log-file'?: string;
  'handshake-timeout': number;
  'reconnect-timeout': number;
  login?: 'auto' | 'never';
}

/** The options `shell` and `start-session` share (everything but how the target is named). */
export function withShellOptions<T>(y: Argv<T>): Argv<T & ShellArgs> {
  return withNetworkOptions(y)
    .option('profile', { type: 'string', describe: 'AWS profile from ~/.aws/config (default: AWS_PROFILE)' })
    .option('region', { type: 'string', describe: 'AWS region (default: AWS_REGION or the profile\'s)' })
    .option('document-name', { type: 'string', describe: 'Session document (default: the account\'s shell, SSM-SessionManagerRunShell)' })
    .option('parameters', {
      type: 'string',
      describe: 'Document parameters as the AWS CLI takes them: key=value[,key2=value2] or JSON {"key":["value"]}',
    })
    .option('endpoint-url', { type: 'string', describe: 'SSM API endpoint override (default: AWS_ENDPOINT_URL_SSM, AWS_ENDPOINT_URL)' })
    .option('ssmmessages-endpoint', {
      type: 'string',
      describe: 'Open the data channel at this https:// endpoint (PrivateLink) instead of the StreamUrl\'s host (default: AWS_ENDPOINT_URL_SSMMESSAGES)',
    })
    .option('verbose', { alias: 'v', type: 'count', describe: 'Log progress to stderr (-vv: protocol detail)' })
    .option('log-file', { type: 'string', describe: 'Write the log to this file instead of stderr' })
    .option('handshake-timeout', { type: 'number', default: 30, describe: 'Seconds to wait for the agent\'s first message or handshake' })
    .option('reconnect-timeout', { type: 'number', default: 300, describe: 'Seconds to keep resuming a dropped data channel before giving up' })
    .option('login', {
      choices: ['auto', 'never'] as const,
      default: 'auto' as const,
      describe: 'SSO sign-in when the token is missing or expired: auto = device login on the terminal (stderr), never = fail',
    }) as Argv<T & ShellArgs>;
}

export const shellCommand: CommandModule<object, ShellArgs> = {
  command: 'shell [target]',
  describe: 'Open an interactive shell on an instance (replaces aws ssm start-session)',
  builder: (y) => withShellOptions(y).positional('target', { type: 'string', describe: 'Instance or managed-node id (i-…, mi-…)' }),
  handler: async (args) => {
    await runCommand(async () => {
      const { runShell } = await import('../shell-main.js');
      return runShell(args);
    });
    // stdin may still hold the event loop open; the session is over and stdout was flushed.
    process.exit();
  },
};
