import type { CommandModule } from 'yargs';
import { SsmProxyError } from '../../errors.js';
import { single } from '../network-options.js';
import { runCommand } from '../run-command.js';
import { checkSessionArgs, positionalOrFlag, withSessionOptions, type SessionArgs, type SessionRawArgs } from '../session-options.js';

/** What yargs hands over: every value as the user typed it. */
export interface ForwardRawArgs extends SessionRawArgs {
  target?: string;
  'remote-port'?: string;
  'local-port'?: string;
  host?: string;
  bind: string;
}

/** The session options checked; target, ports and host are checked by runForward (forward-main.ts). */
export interface ForwardArgs extends SessionArgs {
  target?: string;
  'remote-port'?: string;
  'local-port'?: string;
  host?: string;
  bind: string;
}

export const forwardCommand: CommandModule<object, ForwardRawArgs> = {
  command: 'forward <target> <remote-port>',
  describe: 'Forward a local port through Session Manager to a port on the instance, or (--host) on a host it can reach',
  builder: (y) =>
    withSessionOptions(y, { from: "the alias's ProxyCommand, " })
      .positional('target', { type: 'string', describe: 'Instance or managed-node id (i-…, mi-…), or a Host alias from ~/.ssh/config' })
      .positional('remote-port', { type: 'string', describe: 'Port on the instance, or on --host' })
      .option('local-port', { type: 'string', describe: 'Local port to listen on (default 0: a free one)' })
      .option('host', { type: 'string', describe: 'Remote host the instance connects to (AWS-StartPortForwardingSessionToRemoteHost)' })
      .option('bind', { type: 'string', default: '127.0.0.1', describe: 'Local address to listen on' }),
  handler: async (args) => {
    await runCommand(async () => {
      const argv = process.argv.slice(2);
      const bind = single(args.bind, '--bind') ?? '127.0.0.1';
      if (bind === '') throw new SsmProxyError('usage', "--bind is empty; name a local address such as 127.0.0.1, or leave the option out");
      const checked: ForwardArgs = {
        ...checkSessionArgs(args),
        target: positionalOrFlag(args.target, argv, 'target', 'target'),
        'remote-port': positionalOrFlag(args['remote-port'], argv, 'remote-port', 'remote port'),
        'local-port': single(args['local-port'], '--local-port'),
        host: single(args.host, '--host'),
        bind,
      };
      const { runForward } = await import('../forward-main.js');
      return runForward(checked);
    });
    process.exit();
  },
};
