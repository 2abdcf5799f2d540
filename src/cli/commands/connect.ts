import type { CommandModule } from 'yargs';
import { withNetworkOptions, type NetworkArgs } from '../network-options.js';
import { runCommand } from '../run-command.js';

export interface ConnectArgs extends NetworkArgs {
  target?: string;
  port?: number;
  profile?: string;
  region?: string;
  'document-name': string;
  'endpoint-url'?: string;
  /** PrivateLink: dial the data channel here instead of the StreamUrl's host. */
  'ssmmessages-endpoint'?: string;
  verbose: number;
  'log-file'?: string;
  'handshake-timeout': number;
  'reconnect-timeout': number;
  /** auto: sign in to AWS SSO right here when needed and stderr is a terminal; never: fail fast. */
  login?: 'auto' | 'never';
}

export const connectCommand: CommandModule<object, ConnectArgs> = {
  command: 'connect [target] [port]',
  describe: 'Open a Session Manager port session and pipe it to stdin/stdout (use as ssh ProxyCommand)',
  builder: (y) =>
    withNetworkOptions(y)
      .positional('target', { type: 'string', describe: 'Instance or managed-node id (i-…, mi-…)' })
      .positional('port', { type: 'number', describe: 'Port on the target (default 22)' })
      .option('profile', { type: 'string', describe: 'AWS profile from ~/.aws/config (default: AWS_PROFILE)' })
      .option('region', { type: 'string', describe: 'AWS region (default: AWS_REGION or the profile\'s)' })
      .option('document-name', { type: 'string', default: 'AWS-StartSSHSession', describe: 'Session document' })
      .option('endpoint-url', { type: 'string', describe: 'SSM API endpoint override (default: AWS_ENDPOINT_URL_SSM, AWS_ENDPOINT_URL)' })
      .option('ssmmessages-endpoint', {
        type: 'string',
        describe: 'Open the data channel at this https:// endpoint (PrivateLink) instead of the StreamUrl\'s host; path and query are kept (default: AWS_ENDPOINT_URL_SSMMESSAGES)',
      })
      .option('verbose', { alias: 'v', type: 'count', describe: 'Log progress to stderr (-vv: protocol detail)' })
      .option('log-file', { type: 'string', describe: 'Write the log to this file instead of stderr' })
      .option('handshake-timeout', { type: 'number', default: 30, describe: 'Seconds to wait for the agent to complete the session handshake' })
      .option('reconnect-timeout', { type: 'number', default: 300, describe: 'Seconds to keep resuming a dropped data channel before giving up' })
      .option('login', {
        choices: ['auto', 'never'] as const,
        default: 'auto' as const,
        describe: 'SSO sign-in when the token is missing or expired: auto = device login on the terminal (stderr), never = fail',
      }),
  handler: async (args) => {
    await runCommand(async () => {
      const { runConnect } = await import('../connect-main.js');
      return runConnect(args);
    });
    // stdin may still hold the event loop open; the session is over and stdout was flushed.
    process.exit();
  },
};
