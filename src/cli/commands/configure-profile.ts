import type { CommandModule } from 'yargs';
import { runCommand } from '../run-command.js';

export interface ConfigureProfileArgs {
  profile: string;
  'sso-session': string;
  'start-url': string;
  'sso-region': string;
  region?: string;
  'account-id': string;
  'role-name': string;
  output: string;
  scopes: string;
  backup: boolean;
}

export const configureProfileCommand: CommandModule<object, ConfigureProfileArgs> = {
  command: 'configure-profile',
  describe: 'Write an [sso-session] and an SSO [profile] into ~/.aws/config (idempotent, with a backup)',
  builder: (y) =>
    y
      .option('profile', { type: 'string', demandOption: true, describe: 'Profile name, e.g. discovery-access' })
      .option('sso-session', { type: 'string', demandOption: true, describe: 'sso-session name, e.g. corp' })
      .option('start-url', { type: 'string', demandOption: true, describe: 'SSO start URL, e.g. https://corp.awsapps.com/start' })
      .option('sso-region', { type: 'string', demandOption: true, describe: 'Region of IAM Identity Center' })
      .option('region', { type: 'string', describe: 'Region of the profile (default: --sso-region)' })
      .option('account-id', { type: 'string', demandOption: true, describe: 'AWS account id (12 digits)' })
      .option('role-name', { type: 'string', demandOption: true, describe: 'Permission set (role) name' })
      .option('output', { type: 'string', default: 'json', describe: 'output setting of the profile' })
      .option('scopes', { type: 'string', default: 'sso:account:access', describe: 'sso_registration_scopes (comma separated)' })
      .option('backup', { type: 'boolean', default: true, describe: 'Keep a copy of the file before changing it (--no-backup: do not)' }),
  handler: (args) =>
    runCommand(async () => {
      const { configureSsoProfile, awsConfigPath, awsDir } = await import('../../aws/sso/config-writer.js');
      const { printable } = await import('../../printable.js');
      const result = await configureSsoProfile(
        {
          profile: args.profile,
          ssoSession: args['sso-session'],
          startUrl: args['start-url'],
          ssoRegion: args['sso-region'],
          region: args.region ?? args['sso-region'],
          accountId: String(args['account-id']),
          roleName: args['role-name'],
          output: args.output,
          scopes: args.scopes.split(',').map((scope) => scope.trim()).filter(Boolean),
        },
        { file: awsConfigPath(), backup: args.backup, mayCreateDir: awsDir() },
      );
      const sections = `[sso-session ${args['sso-session']}] and [${args.profile === 'default' ? 'default' : `profile ${args.profile}`}]`;
      const file = printable(result.file);
      if (!result.changed) process.stdout.write(`${file}: ${sections} already up to date\n`);
      else process.stdout.write(`${file}: wrote ${sections}${result.backup ? ` (backup: ${printable(result.backup)})` : ''}\n`);
      process.stdout.write(`next: ssm-proxy login --profile ${args.profile}\n`);
    }),
};
