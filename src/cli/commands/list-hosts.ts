import type { CommandModule } from 'yargs';
import { runCommand } from '../run-command.js';

export interface ListHostsArgs {
  config?: string;
  json: boolean;
}

export const listHostsCommand: CommandModule<object, ListHostsArgs> = {
  command: 'list-hosts',
  describe: 'List the Host blocks that use ssm-proxy or aws ssm start-session',
  builder: (y) =>
    y
      .option('config', { type: 'string', describe: 'The ssh config file to read (default ~/.ssh/config)' })
      .option('json', { type: 'boolean', default: false, describe: 'Print JSON instead of a table' }),
  handler: (args) =>
    runCommand(async () => {
      const { listHosts } = await import('../../sshconfig/list-hosts.js');
      await listHosts({ config: args.config, json: args.json });
    }),
};
