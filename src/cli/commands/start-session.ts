import type { CommandModule } from 'yargs';
import { single } from '../network-options.js';
import { runCommand } from '../run-command.js';
import { checkShellArgs, withShellOptions, type ShellRawArgs } from './shell.js';

export const startSessionCommand: CommandModule<object, ShellRawArgs> = {
  command: 'start-session',
  describe: 'Drop-in for `aws ssm start-session`: a shell, the stdio port session for AWS-StartSSHSession, or a tunnel for AWS-StartPortForwardingSession[ToRemoteHost]',
  builder: (y) => withShellOptions(y).option('target', { type: 'string', demandOption: true, describe: 'Instance or managed-node id (i-…, mi-…)' }),
  handler: async (args) => {
    await runCommand(async () => {
      const checked = checkShellArgs(args, single(args.target, '--target'), 'from --target');
      const { runStartSession } = await import('../shell-main.js');
      return runStartSession(checked);
    });
    process.exit();
  },
};
