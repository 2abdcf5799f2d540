import os from 'node:os';
import path from 'node:path';
import { SsmProxyError } from '../../errors.js';
import { withFileLock } from '../../files/file-lock.js';
import { prepareDirectory, readUserFile, removeStaleTemps, stageUserFile, type FileWords } from '../../files/user-file.js';
import { isRegionName } from '../../input-checks.js';
import { printable } from '../../printable.js';

/**
 * `ssm-proxy configure-profile`: the seed's `[sso-session NAME]` and `[profile NAME]` sections in
 * ~/.aws/config. A line-level edit: keys we own are replaced in place or appended to their
 * section, missing sections are appended; every other byte of the file stays as it was, whatever
 * its encoding (the file is handled as Latin-1, one character per byte). Running it twice
 * changes nothing the second time (and writes nothing). The read-modify-write holds the file's
 * lock, so parallel runs each land.
 */
export interface SsoProfileSpec {
  profile: string;
  ssoSession: string;
  startUrl: string;
  ssoRegion: string;
  scopes: string[];
  region: string;
  output: string;
  accountId: string;
  roleName: string;
}

export interface SectionEdit {
  /** `sso-session corp`, `profile dev` or `default`. */
  header: string;
  values: Array<[key: string, value: string]>;
}

const NAME = /^[A-Za-z0-9_.@+%:/-]+$/;
/** What the SDK's INI reader refuses as a section name. */
const RESERVED_NAMES = new Set(['__proto__']);
const OUTPUTS = new Set(['json', 'yaml', 'yaml-stream', 'text', 'table']);

/**
 * Every value is checked as the exact string that will be written after `key = ` on one line:
 * printable ASCII, no spaces (the SDK cuts a value at ` #` or ` ;`), no control characters or
 * line breaks (a newline would start a new line, and with it any `[section]` or key). A URL
 * parser is no check here: it drops tabs and newlines before it validates.
 */
export function validateSpec(spec: SsoProfileSpec): void {
  const bad = (what: string, why: string) => new SsmProxyError('usage', `invalid ${what}: ${why}`);
  const plain = (value: string) => /^[\x21-\x7e]+$/.test(value);
  for (const [what, name] of [['profile name', spec.profile], ['sso-session name', spec.ssoSession]] as const) {
    if (!NAME.test(name) || RESERVED_NAMES.has(name)) throw bad(`${what} '${printable(name)}'`, 'use letters, digits and - _ . @ + : / % only');
  }
  let url: URL | undefined;
  try {
    url = plain(spec.startUrl) && !spec.startUrl.includes('#') ? new URL(spec.startUrl) : undefined;
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:') || url.hostname === '') {
    throw bad(`start URL '${printable(spec.startUrl)}'`, 'expected https://<your-portal>.awsapps.com/start (no spaces or control characters)');
  }
  for (const [what, region] of [['--sso-region', spec.ssoRegion], ['--region', spec.region]] as const) {
    if (!isRegionName(region)) throw bad(`${what} '${printable(region)}'`, 'expected a region such as eu-west-2');
  }
  if (!/^\d{12}$/.test(spec.accountId)) throw bad(`account id '${printable(spec.accountId)}'`, 'expected 12 digits');
  if (!/^[\w+=,.@-]+$/.test(spec.roleName)) throw bad(`role name '${printable(spec.roleName)}'`, 'expected a permission-set role name');
  if (spec.scopes.length === 0 || spec.scopes.some((scope) => !/^[\w:./-]+$/.test(scope))) {
    throw bad(`scopes '${printable(spec.scopes.join(','))}'`, 'expected e.g. sso:account:access');
  }
  if (!OUTPUTS.has(spec.output)) throw bad(`output '${printable(spec.output)}'`, `expected one of ${[...OUTPUTS].join(', ')}`);
  // The last word: whatever the checks above allowed, no written value may break its line.
  for (const edit of editsFor(spec)) {
    if (!plain(edit.header.replace(' ', '_'))) throw bad(`section [${printable(edit.header)}]`, 'only printable characters');
    for (const [key, value] of edit.values) if (!plain(value)) throw bad(`${key} '${printable(value)}'`, 'only printable characters, no spaces');
  }
}

export function editsFor(spec: SsoProfileSpec): SectionEdit[] {
  return [
    {
      header: `sso-session ${spec.ssoSession}`,
      values: [
        ['sso_start_url', spec.startUrl],
        ['sso_region', spec.ssoRegion],
        ['sso_registration_scopes', spec.scopes.join(',')],
      ],
    },
    {
      header: spec.profile === 'default' ? 'default' : `profile ${spec.profile}`,
      values: [
        ['region', spec.region],
        ['output', spec.output],
        ['sso_session', spec.ssoSession],
        ['sso_account_id', spec.accountId],
        ['sso_role_name', spec.roleName],
      ],
    },
  ];
}

const HEADER = /^\s*\[\s*([^\]]*?)\s*\]\s*(?:[#;].*)?$/;

function sectionName(line: string): string | undefined {
  const match = HEADER.exec(line);
  return match ? match[1]!.replace(/\s+/g, ' ') : undefined;
}

function sameSection(found: string, wanted: string): boolean {
  if (wanted === 'default') return found === 'default' || found === 'profile default';
  return found === wanted;
}

interface IniLine {
  text: string;
  eol: '' | '\n' | '\r\n';
}

/** Lines with their own line ends, as the SDK splits them (\r?\n); a lone \r stays in its line. */
function splitIni(text: string): IniLine[] {
  const lines: IniLine[] = [];
  let start = 0;
  while (start < text.length) {
    const nl = text.indexOf('\n', start);
    if (nl === -1) {
      lines.push({ text: text.slice(start), eol: '' });
      break;
    }
    const crlf = nl > start && text[nl - 1] === '\r';
    lines.push({ text: text.slice(start, crlf ? nl - 1 : nl), eol: crlf ? '\r\n' : '\n' });
    start = nl + 1;
  }
  return lines;
}

/**
 * Applies the edits to the file's text (Latin-1: one character per byte); returns the same string
 * when nothing changes. Lines not edited keep their text and their own line end.
 */
export function applyConfigEdits(text: string, edits: SectionEdit[]): string {
  const lines = splitIni(text);
  const eol = lines.find((l) => l.eol !== '')?.eol ?? '\n';
  const ours = (t: string): IniLine => ({ text: t, eol });
  const blank = (l: IniLine | undefined) => l !== undefined && l.text.trim() === '';

  for (const edit of edits) {
    // The SDK lets a later duplicate section win, so edit the last one.
    let start = -1;
    for (let i = 0; i < lines.length; i++) {
      const name = sectionName(lines[i]!.text);
      if (name !== undefined && sameSection(name, edit.header)) start = i;
    }
    if (start === -1) {
      // One empty line between the file's last section and ours (none if it already ends in one).
      if (lines.length > 0 && !blank(lines[lines.length - 1])) lines.push(ours(''));
      lines.push(ours(`[${edit.header}]`));
      for (const [key, value] of edit.values) lines.push(ours(`${key} = ${value}`));
      continue;
    }
    let end = start + 1;
    while (end < lines.length && sectionName(lines[end]!.text) === undefined) end++;
    for (const [key, value] of edit.values) {
      const keyLine = new RegExp(`^${key}\\s*=`);
      let found = -1;
      for (let i = start + 1; i < end; i++) if (keyLine.test(lines[i]!.text)) found = i;
      if (found !== -1) {
        const line = lines[found]!;
        const current = line.text.slice(line.text.indexOf('=') + 1).trim();
        if (current !== value) lines[found] = { text: `${key} = ${value}`, eol: line.eol };
        continue;
      }
      // After the section's last non-blank line, before blank lines that separate it from the next.
      let at = end;
      while (at > start + 1 && blank(lines[at - 1])) at--;
      lines.splice(at, 0, ours(`${key} = ${value}`));
      end++;
    }
  }
  let out = '';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    // A last line without a newline gets one once something follows it; lines we add always end in one.
    out += line.text + (line.eol === '' && i < lines.length - 1 ? eol : line.eol);
  }
  return out;
}

export interface ConfigureResult {
  file: string;
  changed: boolean;
  backup: string | undefined;
}

/** ~/.aws/config the way the SDK finds it (AWS_CONFIG_FILE, else HOME). */
export function awsConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.AWS_CONFIG_FILE) return path.resolve(env.AWS_CONFIG_FILE.replace(/^~(?=\/)/, env.HOME ?? os.homedir()));
  return path.join(awsDir(env), 'config');
}

/** ~/.aws: the only directory configure-profile creates when it is missing. */
export function awsDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(env.HOME || os.homedir(), '.aws');
}

export async function configureSsoProfile(
  spec: SsoProfileSpec,
  options: {
    file: string;
    backup: boolean;
    now?: Date;
    /** The one directory that may be created when missing (~/.aws); default: none. */
    mayCreateDir?: string;
    lockTimeoutMs?: number;
  },
): Promise<ConfigureResult> {
  validateSpec(spec);
  const words: FileWords = {
    shownAs: printable(options.file),
    hint: 'check the path and its permissions (AWS_CONFIG_FILE names another file)',
  };
  const realPath = await prepareDirectory(options.file, options.mayCreateDir, words);
  return withFileLock(
    realPath,
    async () => {
      await removeStaleTemps(realPath);
      const current = await readUserFile(options.file, words);
      const text = current.bytes.toString('latin1');
      const after = applyConfigEdits(text, editsFor(spec));
      if (after === text && current.exists) return { file: realPath, changed: false, backup: undefined };
      const staged = await stageUserFile(current, Buffer.from(after, 'latin1'), words);
      const backup = await staged.commit({ backup: options.backup, now: options.now ?? new Date(), backupNextTo: realPath });
      return { file: realPath, changed: true, backup };
    },
    { shownAs: words.shownAs, hint: words.hint, ...(options.lockTimeoutMs !== undefined ? { timeoutMs: options.lockTimeoutMs } : {}) },
  );
}
