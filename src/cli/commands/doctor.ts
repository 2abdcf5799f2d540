import type { CommandModule } from 'yargs';
import { checkEndpointUrl, checkRegion, checkTargetId, parsePort, parseSeconds } from '../../input-checks.js';
import { SsmProxyError } from '../../errors.js';
import { single, withAwsOptions, type AwsArgs } from '../network-options.js';
import { runCommand } from '../run-command.js';

export interface DoctorArgs extends AwsArgs {
  alias?: string;
  target?: string;
  'ssh-config'?: string;
  'document-name': string;
  port?: string;
  probe: boolean;
  json: boolean;
}

export const doctorCommand: CommandModule<object, DoctorArgs> = {
  command: 'doctor [alias]',
  describe: 'Check everything a connection needs (ssh config, profile, SSO token, identity, proxy, CA, endpoints) and say how to fix what is broken',
  builder: (y) =>
    withAwsOptions(y, { from: 'the alias, ' })
      .positional('alias', { type: 'string', describe: 'An ssh Host alias: its effective config (ssh -G) is checked and its ProxyCommand settings used' })
      .option('target', { type: 'string', describe: 'Instance or managed-node id for --probe (default: from the alias)' })
      .option('ssh-config', { type: 'string', describe: 'The ssh config file for ssh -G (default: ~/.ssh/config under $HOME, as install-host)' })
      .option('document-name', { type: 'string', default: 'AWS-StartSSHSession', describe: 'Session document for --probe' })
      .option('port', { type: 'string', describe: 'Port the --probe session asks for (default: the alias\'s Port, else 22)' })
      .option('probe', { type: 'boolean', default: false, describe: 'Start and terminate a real session to prove ssm:StartSession is allowed' })
      .option('json', { type: 'boolean', default: false, describe: 'Print the report as JSON' }),
  handler: (args) =>
    runCommand(async () => {
      // What the user typed is checked before any check runs: a bad flag is a usage error, not a report line.
      const target = single(args.target, '--target');
      if (target !== undefined) checkTargetId(target, 'from --target');
      const port = single(args.port, '--port');
      const region = single(args.region, '--region');
      if (region !== undefined) checkRegion(region, 'from --region');
      const endpointUrl = single(args['endpoint-url'], '--endpoint-url');
      if (endpointUrl !== undefined) checkEndpointUrl(endpointUrl, 'from --endpoint-url');
      const connectTimeout = single(args['connect-timeout'], '--connect-timeout');
      const profile = single(args.profile, '--profile');
      if (profile === '') throw new SsmProxyError('usage', '--profile is empty; name a profile, or leave the option out to use the alias\'s, AWS_PROFILE or the default profile');
      const [{ runDoctor }, { exitCodeOf, formatLine }, { VERSION }] = await Promise.all([
        import('../../doctor/run-doctor.js'),
        import('../../doctor/check-result.js'),
        import('../../version.js'),
      ]);
      const results = await runDoctor({
        alias: single(args.alias, 'the alias'),
        target,
        profile,
        region,
        endpointUrl,
        ssmmessagesEndpoint: single(args['ssmmessages-endpoint'], '--ssmmessages-endpoint'),
        proxy: single(args.proxy, '--proxy'),
        caBundle: single(args['ca-bundle'], '--ca-bundle'),
        connectTimeout: connectTimeout === undefined ? undefined : parseSeconds(connectTimeout, 'from --connect-timeout', 600),
        sshConfig: single(args['ssh-config'], '--ssh-config'),
        probe: args.probe,
        port: port === undefined ? undefined : parsePort(port, 'from --port'),
        documentName: single(args['document-name'], '--document-name') ?? 'AWS-StartSSHSession',
        env: process.env,
      });
      const code = exitCodeOf(results);
      if (args.json) {
        process.stdout.write(`${JSON.stringify({ version: VERSION, ok: code === 0, exitCode: code, checks: results }, null, 2)}\n`);
      } else {
        process.stdout.write(results.map((result) => `${formatLine(result)}\n`).join(''));
      }
      return code;
    }),
};
