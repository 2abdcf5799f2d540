/**
 * The fixture corpus: one entry per config file under fixtures/, saying what install-host is
 * asked to do and, independently of the implementation, which original lines it may touch.
 * Line numbers are 1-based and refer to the original file.
 */

import type { InstallRequest } from '../../src/sshconfig/install-plan.js';

export const ID = 'i-0123456789abcdef0';

/** The install-host flags a case passes: a request without the alias and the binary's path. */
export type Flags = Omit<InstallRequest, 'alias' | 'self' | 'fast'>;

export interface FixtureCase {
  /** File under fixtures/, or null for a config that does not exist yet. */
  fixture: string | null;
  setup?: 'missing-file' | 'missing-ssh-dir' | 'symlink';
  mode?: number;
  alias: string;
  flags: Flags;
  /** Rewrite: only lines touches[0]..touches[1] may differ. */
  touches?: [number, number];
  /** Create: the new block goes before this line (line count + 1 = at the end). */
  insertsAt?: number;
  /** What ssh -G must show afterwards. */
  want: { target: string; profile?: string; region?: string; user?: string; port?: number };
  /** Text the new file must contain (exact substrings). */
  contains?: string[];
  /** Other host names whose full ssh -G output must not change. */
  others?: string[];
  /** uninstall-host gives back the original bytes (false when a final newline had to be added). */
  uninstallExact?: boolean;
  crlf?: boolean;
}

const P = { profile: 'discovery-access' };
const NEW = { target: ID, profile: 'discovery-access', region: 'eu-west-2' };
const WANT_NEW = { target: ID, profile: 'discovery-access', region: 'eu-west-2' };

export const CASES: FixtureCase[] = [
  {
    fixture: '01-seed-jumphost.conf', alias: 'jumphost-ssm', flags: P, touches: [6, 6],
    want: { ...WANT_NEW, user: 'ec2-user' }, others: ['github.com'],
    contains: ['): ProxyCommand sh -c "aws ssm start-session --target %h --region eu-west-2 --profile eoe-hie'],
  },
  {
    fixture: '02-aws-docs-snippet.conf', alias: ID, flags: P, insertsAt: 4,
    want: { target: ID, profile: 'discovery-access' }, others: ['github.com', 'i-0fedcba9876543210'],
  },
  { fixture: '03-include-top.conf', alias: 'jumphost-ssm', flags: NEW, insertsAt: 7, want: WANT_NEW, others: ['build'] },
  { fixture: '04-match-exec.conf', alias: 'jumphost-ssm', flags: NEW, insertsAt: 4, want: WANT_NEW, others: ['x.corp', 'office-printer'] },
  {
    fixture: '05-crlf.conf', alias: 'jumphost-ssm', flags: P, touches: [3, 3], want: WANT_NEW, crlf: true, others: ['other'],
  },
  {
    fixture: '06-tabs.conf', alias: 'jumphost-ssm', flags: { ...P, user: 'ubuntu' }, touches: [7, 8],
    want: { ...WANT_NEW, user: 'ubuntu' }, contains: ['\n\tUser ubuntu\n', '\tForwardAgent\tno\n'], others: ['web'],
  },
  {
    fixture: '07-trailing-comments.conf', alias: 'jumphost-ssm', flags: { ...P, user: 'admin' }, touches: [7, 8],
    want: { ...WANT_NEW, user: 'admin' }, contains: ['    User admin\t# tab before this comment\n'], others: ['db'],
  },
  {
    fixture: '08-escaped-quotes.conf', alias: 'jumphost-ssm', flags: {}, touches: [6, 6],
    want: { target: ID, profile: 'eoe-hie', region: 'eu-west-2' }, others: ['legacy'],
  },
  {
    fixture: '09-multi-pattern.conf', alias: 'jumphost-ssm', flags: P, insertsAt: 1,
    want: { ...WANT_NEW, user: 'ec2-user' }, others: ['jumphost-alt'],
  },
  { fixture: '10-lowercase-host.conf', alias: 'jumphost-ssm', flags: P, touches: [4, 4], want: { ...WANT_NEW, user: 'ubuntu' } },
  { fixture: '11-empty.conf', alias: 'jumphost-ssm', flags: NEW, insertsAt: 1, want: WANT_NEW },
  { fixture: null, setup: 'missing-file', alias: 'jumphost-ssm', flags: NEW, insertsAt: 1, want: WANT_NEW },
  { fixture: null, setup: 'missing-ssh-dir', alias: 'jumphost-ssm', flags: NEW, insertsAt: 1, want: WANT_NEW },
  {
    fixture: '14-symlink-target.conf', setup: 'symlink', alias: 'jumphost-ssm', flags: NEW, insertsAt: 4, want: WANT_NEW,
    others: ['dotfiles-host'],
  },
  {
    fixture: '15-key-equals-value.conf', alias: 'jumphost-ssm', flags: P, touches: [4, 4], want: { ...WANT_NEW, user: 'ec2-user' },
    contains: ['    ProxyCommand="/opt/ssm proxy/bin/ssm-proxy" connect'], others: ['other'],
  },
  {
    fixture: '16-no-final-newline.conf', alias: 'jumphost-ssm', flags: NEW, insertsAt: 4, want: WANT_NEW,
    uninstallExact: false, others: ['web'],
  },
  {
    fixture: '17-host-star-first.conf', alias: 'jumphost-ssm', flags: { ...NEW, user: 'ec2-user' }, insertsAt: 3,
    want: { ...WANT_NEW, user: 'ec2-user' }, others: ['web', 'anything'],
  },
  {
    fixture: '18-host-star-last.conf', alias: 'jumphost-ssm', flags: { ...NEW, user: 'ec2-user', port: 2022 }, insertsAt: 4,
    want: { ...WANT_NEW, user: 'ec2-user', port: 2022 }, others: ['web', 'anything'],
  },
  {
    fixture: '19-match-all.conf', alias: 'jumphost-ssm', flags: { target: ID, region: 'eu-west-2', user: 'ec2-user' }, insertsAt: 4,
    want: { target: ID, region: 'eu-west-2', user: 'ec2-user' }, others: ['web'],
  },
  { fixture: '20-global-directives.conf', alias: 'jumphost-ssm', flags: NEW, insertsAt: 6, want: WANT_NEW, others: ['web'] },
  { fixture: '21-negated-pattern.conf', alias: 'jumphost-ssm', flags: NEW, insertsAt: 6, want: WANT_NEW, others: ['web', 'other'] },
  {
    fixture: '22-question-mark.conf', alias: 'jumphost-ssm', flags: NEW, insertsAt: 4, want: { ...WANT_NEW, user: 'qmark' },
    others: ['web', 'jumphost-ssx'],
  },
  { fixture: '23-already-ssm-proxy.conf', alias: 'jumphost-ssm', flags: P, touches: [3, 3], want: WANT_NEW, others: ['web'] },
  { fixture: '24-aws-direct.conf', alias: 'jumphost-ssm', flags: P, touches: [2, 2], want: WANT_NEW },
  {
    fixture: '25-aws-env-prefix.conf', alias: 'jumphost-ssm', flags: {}, touches: [3, 3],
    want: { target: ID, profile: 'eoe-hie', region: 'eu-west-1' },
  },
  {
    fixture: '26-bash-json-params.conf', alias: 'jumphost-ssm', flags: P, touches: [3, 3], want: { ...WANT_NEW, port: 2222 },
    contains: ['    Port 2222\n'],
  },
  { fixture: '27-non-utf8-bytes.conf', alias: 'jumphost-ssm', flags: NEW, insertsAt: 5, want: WANT_NEW, others: ['web'] },
  {
    fixture: '28-port-replaced.conf', alias: 'jumphost-ssm', flags: { port: 2200 }, touches: [3, 4],
    want: { target: ID, profile: 'eoe-hie', region: 'eu-west-2', port: 2200 },
  },
  {
    fixture: '29-no-proxycommand.conf', alias: 'jumphost-ssm', flags: NEW, touches: [2, 3], want: { ...WANT_NEW, user: 'admin' },
    others: ['web'],
  },
  {
    fixture: '30-identity-and-options.conf', alias: 'jumphost-ssm', flags: { ...P, identityFile: '~/.ssh/new key.pem' }, touches: [3, 6],
    want: WANT_NEW, contains: ['    IdentityFile "~/.ssh/new key.pem"\n', '    LocalForward 5432 db.internal:5432\n'],
  },
  { fixture: '31-middle-of-file.conf', alias: 'jumphost-ssm', flags: P, touches: [8, 8], want: WANT_NEW, others: ['home', 'ci'] },
  {
    fixture: '32-uppercase-keywords.conf', alias: 'jumphost-ssm', flags: P, touches: [3, 3], want: WANT_NEW,
    contains: ['    PROXYCOMMAND "/opt/ssm proxy/bin/ssm-proxy" connect'],
  },
  { fixture: '33-whitespace-lines.conf', alias: 'jumphost-ssm', flags: NEW, insertsAt: 9, want: WANT_NEW, others: ['web', 'build'] },
  {
    fixture: '34-duplicate-alias.conf', alias: 'jumphost-ssm', flags: P, touches: [3, 3], want: { ...WANT_NEW, user: 'never-used' },
  },
  { fixture: '35-match-host-top.conf', alias: 'jumphost-ssm', flags: NEW, insertsAt: 1, want: WANT_NEW, others: ['web'] },
  { fixture: '36-include-in-host.conf', alias: 'jumphost-ssm', flags: P, touches: [8, 8], want: WANT_NEW, others: ['web'] },
  { fixture: '37-quoted-host-pattern.conf', alias: 'jumphost-ssm', flags: P, touches: [3, 3], want: WANT_NEW },
  { fixture: '38-mode-0644.conf', mode: 0o644, alias: 'jumphost-ssm', flags: NEW, insertsAt: 3, want: WANT_NEW, others: ['web'] },
  {
    fixture: '39-crlf-no-final-newline.conf', alias: 'jumphost-ssm', flags: NEW, insertsAt: 4, want: WANT_NEW, crlf: true,
    uninstallExact: false, others: ['web'],
  },
  {
    fixture: '40-mi-managed-node.conf', alias: 'rack-7', flags: {}, touches: [4, 4],
    want: { target: 'mi-0123456789abcdef0', profile: 'onprem', region: 'us-east-1' },
  },
];
