import { homedir } from 'node:os';
import { join } from 'node:path';
import { decodeText, readBounded } from '../bounded-read.js';
import { SsmProxyError } from '../errors.js';
import { loadCommonJs } from './commonjs-package.js';

/** Profiles by name (`default`, `dev`), other sections as `sso-session.NAME`, `services.NAME`: the SDK's shape. */
export type ConfigSections = Record<string, Record<string, string | undefined> | undefined>;

/** ~/.aws/config and ~/.aws/credentials as read once for a command: the text (for the SDK) and the sections. */
export interface AwsConfigFiles {
  configPath: string;
  credentialsPath: string;
  /** For messages: AWS_CONFIG_FILE as given, else `~/.aws/config`. */
  configLabel: string;
  /** The text of each file that exists (undefined when it does not). */
  configText: string | undefined;
  credentialsText: string | undefined;
  /** Both files merged the SDK's way (credentials file entries override config file entries). */
  sections: ConfigSections;
}

/** Bigger than any real AWS config file; /dev/zero or a mistaken path fails at once. */
export const CONFIG_FILE_LIMIT = 4 << 20;

const SECTION_TYPES = new Set(['profile', 'sso-session', 'services']);
const PREFIXED = /^([\w-]+)\s(["'])?([\w\-@+.%:/]+)\2$/;

/** The SDK's home directory rule (HOME, USERPROFILE, HOMEPATH, then the OS's). */
export function awsHome(env: NodeJS.ProcessEnv): string {
  if (env.HOME) return env.HOME;
  if (env.USERPROFILE) return env.USERPROFILE;
  if (env.HOMEPATH) return `${env.HOMEDRIVE ?? 'C:\\'}${env.HOMEPATH}`;
  return homedir();
}

function expandHome(path: string, env: NodeJS.ProcessEnv): string {
  return path.startsWith('~/') ? join(awsHome(env), path.slice(2)) : path;
}

/**
 * Reads both files once, bounded, and parses them as the SDK does. A missing file is empty; a
 * file that is a directory, unreadable, too large or binary is a configuration error naming it.
 */
export function readAwsConfigFiles(env: NodeJS.ProcessEnv = process.env): AwsConfigFiles {
  const configPath = expandHome(env.AWS_CONFIG_FILE || join(awsHome(env), '.aws', 'config'), env);
  const credentialsPath = expandHome(env.AWS_SHARED_CREDENTIALS_FILE || join(awsHome(env), '.aws', 'credentials'), env);
  const configLabel = env.AWS_CONFIG_FILE || '~/.aws/config';
  const credentialsLabel = env.AWS_SHARED_CREDENTIALS_FILE || '~/.aws/credentials';
  const configText = readText(configPath, `the AWS config file ${configLabel}`, 'AWS_CONFIG_FILE');
  const credentialsText = readText(credentialsPath, `the AWS credentials file ${credentialsLabel}`, 'AWS_SHARED_CREDENTIALS_FILE');
  const config = configText === undefined ? {} : configSections(parseIni(configText, configLabel));
  const credentials = credentialsText === undefined ? {} : parseIni(credentialsText, credentialsLabel);
  const sections: ConfigSections = {};
  for (const file of [config, credentials]) {
    for (const [name, values] of Object.entries(file)) sections[name] = { ...sections[name], ...values };
  }
  return { configPath, credentialsPath, configLabel, configText, credentialsText, sections };
}

function readText(path: string, what: string, variable: string): string | undefined {
  const read = readBounded(path, CONFIG_FILE_LIMIT);
  if (!read.ok) {
    if (read.code === 'ENOENT') return undefined;
    throw new SsmProxyError('config', `${what} ${read.reason}; fix or remove it (or point ${variable} at another file)`);
  }
  const text = decodeText(read.bytes);
  if (text === undefined) {
    throw new SsmProxyError('config', `${what} cannot be parsed: it holds binary data, not INI text; fix or remove it (or point ${variable} at another file)`);
  }
  return text;
}

/**
 * INI as the SDK's parseIni reads it: `[section]`, `key = value`, `#`/`;` comments, and nested
 * `key =` sub-sections (`s3 =` then indented `k = v`, stored as `s3.k`).
 */
export function parseIni(text: string, label: string): ConfigSections {
  const map: ConfigSections = Object.create(null) as ConfigSections;
  let section: string | undefined;
  let subSection: string | undefined;
  for (const line of text.split(/\r?\n/)) {
    const trimmed = line.split(/(^|\s)[;#]/)[0]!.trim();
    if (trimmed.startsWith('[') && trimmed.endsWith(']')) {
      section = undefined;
      subSection = undefined;
      const name = trimmed.slice(1, -1);
      if (name === '__proto__' || name === 'profile __proto__') {
        throw new SsmProxyError('config', `${label} cannot be parsed: it has a section named [${name}]; remove it`);
      }
      const match = PREFIXED.exec(name);
      if (match) {
        if (SECTION_TYPES.has(match[1]!)) section = `${match[1]}.${match[3]}`;
      } else section = name;
      continue;
    }
    if (!section) continue;
    const equals = trimmed.indexOf('=');
    if (equals <= 0) continue;
    const key = trimmed.slice(0, equals).trim();
    const value = trimmed.slice(equals + 1).trim();
    if (value === '') {
      subSection = key;
      continue;
    }
    if (subSection && line.trimStart() === line) subSection = undefined;
    const values = (map[section] ??= {});
    values[subSection ? `${subSection}.${key}` : key] = value;
  }
  return map;
}

/** The config file's view: `[default]`, `[profile NAME]` as NAME, `[sso-session NAME]` as sso-session.NAME. */
function configSections(parsed: ConfigSections): ConfigSections {
  const sections: ConfigSections = {};
  for (const [name, values] of Object.entries(parsed)) {
    const dot = name.indexOf('.');
    if (name === 'default') sections.default = values;
    else if (dot > 0 && SECTION_TYPES.has(name.slice(0, dot))) sections[name.startsWith('profile.') ? name.slice(dot + 1) : name] = values;
  }
  return sections;
}

/** The SDK's config-file layer (@smithy/core/config), where shareWithSdk hands the files over. */
export function loadSmithyConfig() {
  return loadCommonJs('@smithy/core/config', () => import('@smithy/core/config'));
}

/**
 * Hands the text already read to the AWS SDK (its own `externalDataInterceptor`), so every SDK
 * client and provider of this process uses these bytes instead of reading the files again
 * (unbounded, and with read errors swallowed). Call once per process, from the CLI.
 */
export async function shareWithSdk(files: AwsConfigFiles): Promise<void> {
  const { externalDataInterceptor } = await loadSmithyConfig();
  externalDataInterceptor.interceptFile(files.configPath, files.configText ?? '');
  externalDataInterceptor.interceptFile(files.credentialsPath, files.credentialsText ?? '');
}
