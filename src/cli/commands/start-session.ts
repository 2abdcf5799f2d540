import type { CommandModule } from 'yargs';
import { runCommand } from '../run-command.js';
import { withShellOptions, type ShellArgs } from './shell.js';

export const startSessionCommand: CommandModule<object, ShellArgs> = {
  command: 'start-session',
  describe: 'Drop-in for `aws ssm start-session`: a shell, the stdio port session for AWS-StartSSHSession, or a tunnel for AWS-StartPortForwardingSession[ToRemoteHost]',
  builder: (y) => withShellOptions(y).option('target', { type: 'string', demandOption: true, describe: 'Instance or managed-node id (i-…, mi-…)' }),
  handler: async (args) => {
    await runCommand(async () => {
      const { runStartSession } = await import('../shell-main.js');
      return runStartSession(args);
    });
    process.exit();
  },
};
