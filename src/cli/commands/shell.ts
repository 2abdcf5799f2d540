import type { Argv, CommandModule } from 'yargs';
import { checkTargetId } from '../../input-checks.js';
import { single } from '../network-options.js';
import { runCommand } from '../run-command.js';
import { checkSessionArgs, positionalOrFlag, withSessionOptions, type SessionArgs, type SessionRawArgs } from '../session-options.js';

/** What yargs hands over for `shell` and `start-session`: every value as the user typed it. */
export interface ShellRawArgs extends SessionRawArgs {
  target?: string;
  'document-name'?: string;
  /** AWS CLI forms: key=value shorthand or JSON (cli/session-parameters.ts). */
  parameters?: string | string[];
}

/** The checked arguments shell-main.ts works with. */
export interface ShellArgs extends SessionArgs {
  target: string;
  'document-name'?: string;
  parameters?: string | string[];
}

/** The options `shell` and `start-session` share (everything but how the target is named). */
export function withShellOptions<T>(y: Argv<T>): Argv<T & ShellRawArgs> {
  return withSessionOptions(y, { from: '' })
    .option('document-name', { type: 'string', describe: 'Session document (default: the account\'s shell, SSM-SessionManagerRunShell)' })
    .option('parameters', {
      type: 'string',
      describe: 'Document parameters as the AWS CLI takes them: key=value[,key2=value2] or JSON {"key":["value"]}',
    }) as Argv<T & ShellRawArgs>;
}

/** Target and session options checked as typed, before any file or network call. */
export function checkShellArgs(args: ShellRawArgs, target: string | undefined, from: string): ShellArgs {
  const checkedTarget = checkTargetId(target ?? '', from);
  const documentName = single(args['document-name'], '--document-name');
  return { ...checkSessionArgs(args), target: checkedTarget, ...(documentName !== undefined ? { 'document-name': documentName } : {}) };
}

export const shellCommand: CommandModule<object, ShellRawArgs> = {
  command: 'shell [target]',
  describe: 'Open an interactive shell on an instance (replaces aws ssm start-session)',
  builder: (y) => withShellOptions(y).positional('target', { type: 'string', describe: 'Instance or managed-node id (i-…, mi-…); or --target' }),
  handler: async (args) => {
    await runCommand(async () => {
      const target = positionalOrFlag(args.target, process.argv.slice(2), 'target', 'target');
      const checked = checkShellArgs(args, target, 'the first argument or --target');
      const { runShell } = await import('../shell-main.js');
      return runShell(checked);
    });
    // stdin may still hold the event loop open; the session is over and stdout was flushed.
    process.exit();
  },
};
