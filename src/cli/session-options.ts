import type { Argv } from 'yargs';
import { SsmProxyError } from '../errors.js';
import { checkEndpointUrl, checkRegion, parseSeconds } from '../input-checks.js';
import { awsOptions, single, type AwsArgs } from './network-options.js';
import { declareOptions, type OptionTable } from './option-table.js';
import { parseStreamEndpoint } from './ssmmessages-endpoint.js';

/**
 * The options every session command shares — connect, shell, start-session and forward — declared
 * once and checked once, as typed, before any file, listener or network call.
 */

type Login = 'auto' | 'never';

/** What yargs hands over: every value as the user typed it. */
export interface SessionRawArgs extends AwsArgs {
  verbose: number;
  'log-file'?: string;
  'handshake-timeout': string;
  'reconnect-timeout': string;
  /** auto: sign in to AWS SSO right here when needed and stderr is a terminal; never: fail fast. */
  login?: Login;
}

/** The same options checked: one value each, the timeouts in whole seconds. */
export interface SessionArgs extends AwsArgs {
  verbose: number;
  'log-file'?: string;
  'handshake-timeout': number;
  'reconnect-timeout': number;
  login?: Login;
}

const MAX_HANDSHAKE_S = 3600;
const MAX_RECONNECT_S = 86_400;

/** The AWS options (see awsOptions), -v, --log-file, --handshake-timeout, --reconnect-timeout and --login. */
export function sessionOptions(defaults: { from: string }) {
  return {
    ...awsOptions(defaults),
    verbose: { alias: 'v', type: 'count', describe: 'Log progress to stderr (-vv: protocol detail)' },
    'log-file': { type: 'string', describe: 'Write the log to this file instead of stderr' },
    'handshake-timeout': { type: 'string', default: '30', describe: 'Seconds to wait for the agent to complete the session handshake' },
    'reconnect-timeout': { type: 'string', default: '300', describe: 'Seconds to keep resuming a dropped data channel before giving up' },
    login: {
      choices: ['auto', 'never'],
      default: 'auto',
      describe: 'SSO sign-in when the token is missing or expired: auto = device login on the terminal (stderr), never = fail',
    },
  } as const satisfies OptionTable;
}

export function withSessionOptions<T>(y: Argv<T>, defaults: { from: string }): Argv<T & SessionRawArgs> {
  return declareOptions<T, SessionRawArgs>(y, sessionOptions(defaults));
}

/**
 * Every shared option checked as typed: given once, numbers in decimal digits, no empty profile, a
 * region that is a region, endpoints that are http(s) URLs. Profile files, credentials and the
 * network come later (prepareSession); nothing here reads a file or opens a socket.
 */
export function checkSessionArgs<A extends SessionRawArgs>(args: A): Omit<A, keyof SessionRawArgs> & SessionArgs {
  const profile = single(args.profile, '--profile');
  if (profile === '') {
    throw new SsmProxyError('usage', '--profile is empty; name a profile, or leave the option out to use AWS_PROFILE or the default profile');
  }
  const logFile = single(args['log-file'], '--log-file');
  if (logFile === '') throw new SsmProxyError('usage', '--log-file is empty; name a file, or leave the option out to log to stderr');
  const region = single(args.region, '--region');
  if (region !== undefined) checkRegion(region, 'from --region');
  const endpoint = single(args['endpoint-url'], '--endpoint-url');
  if (endpoint !== undefined) checkEndpointUrl(endpoint, 'from --endpoint-url');
  const streamEndpoint = single(args['ssmmessages-endpoint'], '--ssmmessages-endpoint');
  if (streamEndpoint !== undefined) parseStreamEndpoint(streamEndpoint);
  const connectTimeout = single(args['connect-timeout'], '--connect-timeout');
  if (connectTimeout !== undefined) parseSeconds(connectTimeout, 'from --connect-timeout', 600);
  const seconds = (name: 'handshake-timeout' | 'reconnect-timeout', max: number) => parseSeconds(single(args[name], `--${name}`) ?? '', `from --${name}`, max);
  const checked: SessionArgs = {
    ...omitUndefined({
      profile,
      region,
      'endpoint-url': endpoint,
      'ssmmessages-endpoint': streamEndpoint,
      'connect-timeout': connectTimeout,
      proxy: single(args.proxy, '--proxy'),
      'ca-bundle': single(args['ca-bundle'], '--ca-bundle'),
      'log-file': logFile,
      login: single(args.login, '--login') as Login | undefined,
    }),
    verbose: args.verbose ?? 0,
    'handshake-timeout': seconds('handshake-timeout', MAX_HANDSHAKE_S),
    'reconnect-timeout': seconds('reconnect-timeout', MAX_RECONNECT_S),
  };
  return { ...args, ...checked } as Omit<A, keyof SessionRawArgs> & SessionArgs;
}

/**
 * A value that is both a positional and a flag (`connect <target>` / `--target`): yargs keeps the
 * positional silently when both are given, so a different flag value is refused here.
 * `argv` is the command line after the program (process.argv.slice(2)).
 */
export function positionalOrFlag(value: unknown, argv: readonly string[], flag: string, what: string): string | undefined {
  const text = single(value, `--${flag}`);
  const typed = flagValue(argv, flag);
  if (typed !== undefined && text !== undefined && typed !== text) {
    throw new SsmProxyError('usage', `the ${what} is given twice, '${text}' and --${flag} '${typed}'; give it once`);
  }
  return text;
}

/** The value of `--name v` / `--name=v` in the raw argv (before `--`), if given. */
function flagValue(argv: readonly string[], name: string): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') break;
    if (arg === `--${name}`) return argv[i + 1];
    if (arg.startsWith(`--${name}=`)) return arg.slice(name.length + 3);
  }
  return undefined;
}

function omitUndefined<T extends Record<string, unknown>>(values: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as { [K in keyof T]?: Exclude<T[K], undefined> };
}
