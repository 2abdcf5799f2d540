import type { CommandModule } from 'yargs';
import { runCommand } from '../run-command.js';

export interface InstallHostArgs {
  alias: string;
  target?: string;
  profile?: string;
  region?: string;
  user?: string;
  port?: string;
  'identity-file'?: string;
  config?: string;
  'dry-run': boolean;
  backup: boolean;
  'connection-sharing': boolean;
  'control-persist'?: string;
  compression: boolean;
}

export const installHostCommand: CommandModule<object, InstallHostArgs> = {
  command: 'install-host <alias>',
  describe: 'Add or update a Host block in ~/.ssh/config that reaches the host through ssm-proxy',
  builder: (y) =>
    y
      .positional('alias', { type: 'string', demandOption: true, describe: 'The name you will type after ssh' })
      .option('target', { type: 'string', describe: 'Instance or managed-node id (i-…, mi-…); default: from the existing block' })
      .option('profile', { type: 'string', describe: 'AWS profile for the ProxyCommand' })
      .option('region', { type: 'string', describe: 'AWS region for the ProxyCommand' })
      .option('user', { type: 'string', describe: 'Set User in the block' })
      .option('port', { type: 'string', describe: 'Set Port in the block (the port on the instance)' })
      .option('identity-file', { type: 'string', describe: 'Set IdentityFile in the block' })
      .option('config', { type: 'string', describe: 'The ssh config file to edit (default ~/.ssh/config)' })
      .option('dry-run', { type: 'boolean', default: false, describe: 'Print the change as a unified diff; write nothing' })
      .option('backup', { type: 'boolean', default: true, describe: 'Keep a copy of the file before changing it (--no-backup: do not)' })
      .option('connection-sharing', {
        type: 'boolean',
        default: true,
        describe: 'Write ControlMaster auto, ControlPath ~/.ssh/cm-%C and ControlPersist, so repeat ssh runs share one SSM session (--no-connection-sharing: do not)',
      })
      .option('control-persist', { type: 'string', describe: 'How long an idle shared connection stays up: 10m (default), 1h, 600, yes, no' })
      .option('compression', { type: 'boolean', default: true, describe: 'Write Compression yes (--no-compression: do not)' }),
  handler: (args) =>
    runCommand(async () => {
      const { installHost } = await import('../../sshconfig/install.js');
      const { parsePortFlag } = await import('../../sshconfig/validate.js');
      await installHost({
        alias: args.alias,
        target: args.target,
        profile: args.profile,
        region: args.region,
        user: args.user,
        port: args.port === undefined ? undefined : parsePortFlag(args.port),
        identityFile: args['identity-file'],
        config: args.config,
        dryRun: args['dry-run'],
        backup: args.backup,
        fast: {
          sharing: args['connection-sharing'],
          compression: args.compression,
          ...(args['control-persist'] !== undefined ? { controlPersist: args['control-persist'] } : {}),
        },
      });
    }),
};
