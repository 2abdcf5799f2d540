import type { CommandModule } from 'yargs';
import { runCommand } from '../run-command.js';

export interface UninstallHostArgs {
  alias: string;
  config?: string;
  'dry-run': boolean;
  backup: boolean;
  force: boolean;
}

export const uninstallHostCommand: CommandModule<object, UninstallHostArgs> = {
  command: 'uninstall-host <alias>',
  describe: 'Undo what install-host wrote for a Host, leaving the rest of the file alone',
  builder: (y) =>
    y
      .positional('alias', { type: 'string', demandOption: true, describe: 'The Host alias given to install-host' })
      .option('config', { type: 'string', describe: 'The ssh config file to edit (default ~/.ssh/config)' })
      .option('dry-run', { type: 'boolean', default: false, describe: 'Print the change as a unified diff; write nothing' })
      .option('backup', { type: 'boolean', default: true, describe: 'Keep a copy of the file before changing it (--no-backup: do not)' })
      .option('force', {
        type: 'boolean',
        default: false,
        describe: "Remove install-host's lines even when they were edited by hand since (default: refuse and say what differs)",
      }),
  handler: (args) =>
    runCommand(async () => {
      const { uninstallHost } = await import('../../sshconfig/uninstall.js');
      await uninstallHost({ alias: args.alias, config: args.config, dryRun: args['dry-run'], backup: args.backup, force: args.force });
    }),
};
