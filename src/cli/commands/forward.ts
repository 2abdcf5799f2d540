import type { CommandModule } from 'yargs';
import { withNetworkOptions, type NetworkArgs } from '../network-options.js';
import { runCommand } from '../run-command.js';

export interface ForwardArgs extends NetworkArgs {
  target?: string;
  'remote-port'?: number;
  'local-port'?: number;
  host?: string;
  bind: string;
  profile?: string;
  region?: string;
  'endpoint-url'?: string;
  'ssmmessages-endpoint'?: string;
  verbose: number;
  'log-file'?: string;
  'handshake-timeout': number;
  'reconnect-timeout': number;
  login?: 'auto' | 'never';
}

export const forwardCommand: CommandModule<object, ForwardArgs> = {
  command: 'forward <target> <remote-port>',
  describe: 'Forward a local port through Session Manager to a port on the instance, or (--host) on a host it can reach',
  builder: (y) =>
    withNetworkOptions(y)
      .positional('target', { type: 'string', describe: 'Instance or managed-node id (i-…, mi-…), or a Host alias from ~/.ssh/config' })
      .positional('remote-port', { type: 'number', describe: 'Port on the instance, or on --host' })
      .option('local-port', { type: 'number', describe: 'Local port to listen on (default 0: a free one)' })
      .option('host', { type: 'string', describe: 'Remote host the instance connects to (AWS-StartPortForwardingSessionToRemoteHost)' })
      .option('bind', { type: 'string', default: '127.0.0.1', describe: 'Local address to listen on' })
      .option('profile', { type: 'string', describe: "AWS profile from ~/.aws/config (default: AWS_PROFILE, or the alias's ProxyCommand)" })
      .option('region', { type: 'string', describe: "AWS region (default: AWS_REGION, the alias's ProxyCommand, or the profile's)" })
      .option('endpoint-url', { type: 'string', describe: 'SSM API endpoint override (default: AWS_ENDPOINT_URL_SSM, AWS_ENDPOINT_URL)' })
      .option('ssmmessages-endpoint', { type: 'string', describe: "Open the data channel at this https:// endpoint (PrivateLink) instead of the StreamUrl's host" })
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
      const { runForward } = await import('../forward-main.js');
      return runForward(args);
    });
    process.exit();
  },
};
