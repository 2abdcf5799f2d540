import type { CommandModule } from 'yargs';
import { withNetworkOptions, type NetworkArgs } from '../network-options.js';
import { runCommand } from '../run-command.js';

export interface DoctorArgs extends NetworkArgs {
  alias?: string;
  target?: string;
  profile?: string;
  region?: string;
  'endpoint-url'?: string;
  'ssmmessages-endpoint'?: string;
  'ssh-config'?: string;
  'document-name': string;
  port?: number;
  probe: boolean;
  json: boolean;
}

export const doctorCommand: CommandModule<object, DoctorArgs> = {
  command: 'doctor [alias]',
  describe: 'Check everything a connection needs (ssh config, profile, SSO token, identity, proxy, CA, endpoints) and say how to fix what is broken',
  builder: (y) =>
    withNetworkOptions(y)
      .positional('alias', { type: 'string', describe: 'An ssh Host alias: its effective config (ssh -G) is checked and its ProxyCommand settings used' })
      .option('target', { type: 'string', describe: 'Instance or managed-node id for --probe (default: from the alias)' })
      .option('profile', { type: 'string', describe: 'AWS profile (default: from the alias, AWS_PROFILE)' })
      .option('region', { type: 'string', describe: 'AWS region (default: from the alias, AWS_REGION, the profile\'s)' })
      .option('endpoint-url', { type: 'string', describe: 'SSM API endpoint override (default: AWS_ENDPOINT_URL_SSM, AWS_ENDPOINT_URL)' })
      .option('ssmmessages-endpoint', { type: 'string', describe: 'Data-channel endpoint (PrivateLink), as for connect' })
      .option('ssh-config', { type: 'string', describe: 'The ssh config file for ssh -G (default: ~/.ssh/config under $HOME, as install-host)' })
      .option('document-name', { type: 'string', default: 'AWS-StartSSHSession', describe: 'Session document for --probe' })
      .option('port', { type: 'number', describe: 'Port the --probe session asks for (default: the alias\'s Port, else 22)' })
      .option('probe', { type: 'boolean', default: false, describe: 'Start and terminate a real session to prove ssm:StartSession is allowed' })
      .option('json', { type: 'boolean', default: false, describe: 'Print the report as JSON' }),
  handler: (args) =>
    runCommand(async () => {
      const [{ runDoctor }, { exitCodeOf, formatLine }, { VERSION }] = await Promise.all([
        import('../../doctor/run-doctor.js'),
        import('../../doctor/check-result.js'),
        import('../../version.js'),
      ]);
      const results = await runDoctor({
        alias: args.alias,
        target: args.target,
        profile: args.profile,
        region: args.region,
        endpointUrl: args['endpoint-url'],
        ssmmessagesEndpoint: args['ssmmessages-endpoint'],
        proxy: args.proxy,
        caBundle: args['ca-bundle'],
        sshConfig: args['ssh-config'],
        probe: args.probe,
        port: args.port,
        documentName: args['document-name'],
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
