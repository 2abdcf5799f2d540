import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SsmProxyError } from '../../errors.js';
import { codeOf, ioError, writeBackup, writeFileAtomic } from '../../files/atomic-file.js';

/**
 * `ssm-proxy configure-profile`: the seed's `[sso-session NAME]` and `[profile NAME]` sections in
 * ~/.aws/config. A line-level edit: keys we own are replaced in place or appended to their
 * section, missing sections are appended; every other byte of the file stays as it was. Running
 * it twice changes nothing the second time (and writes nothing).
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

export function validateSpec(spec: SsoProfileSpec): void {
  const bad = (what: string, why: string) => new SsmProxyError('usage', `invalid ${what}: ${why}`);
  if (!NAME.test(spec.profile)) throw bad(`profile name '${spec.profile}'`, 'use letters, digits and - _ . @ + only');
  if (!NAME.test(spec.ssoSession)) throw bad(`sso-session name '${spec.ssoSession}'`, 'use letters, digits and - _ . @ + only');
  let url: URL | undefined;
  try {
    url = new URL(spec.startUrl);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    throw bad(`start URL '${spec.startUrl}'`, 'expected https://<your-portal>.awsapps.com/start');
  }
  for (const [what, region] of [['--sso-region', spec.ssoRegion], ['--region', spec.region]] as const) {
    if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region)) throw bad(`${what} '${region}'`, 'expected a region such as eu-west-2');
  }
  if (!/^\d{12}$/.test(spec.accountId)) throw bad(`account id '${spec.accountId}'`, 'expected 12 digits');
  if (!/^[\w+=,.@-]+$/.test(spec.roleName)) throw bad(`role name '${spec.roleName}'`, 'expected a permission-set role name');
  if (spec.scopes.length === 0 || spec.scopes.some((scope) => !/^[\w:./-]+$/.test(scope))) {
    throw bad(`scopes '${spec.scopes.join(',')}'`, 'expected e.g. sso:account:access');
  }
  for (const value of [spec.output, ...spec.scopes]) {
    if (/[\r\n]/.test(value)) throw bad('value', 'no line breaks');
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

/** Applies the edits to the file's text; returns the same string when nothing changes. */
export function applyConfigEdits(text: string, edits: SectionEdit[]): string {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const lines = text.length === 0 ? [] : text.split(/\r?\n/);
  // A trailing newline leaves one empty element; keep it aside so appends go before it.
  const trailingNewline = lines.length > 0 && lines[lines.length - 1] === '';
  if (trailingNewline) lines.pop();

  for (const edit of edits) {
    // The SDK lets a later duplicate section win, so edit the last one.
    let start = -1;
    for (let i = 0; i < lines.length; i++) {
      const name = sectionName(lines[i]!);
      if (name !== undefined && sameSection(name, edit.header)) start = i;
    }
    if (start === -1) {
      while (lines.length > 0 && lines[lines.length - 1]!.trim() === '') lines.pop();
      if (lines.length > 0) lines.push('');
      lines.push(`[${edit.header}]`);
      for (const [key, value] of edit.values) lines.push(`${key} = ${value}`);
      continue;
    }
    let end = start + 1;
    while (end < lines.length && sectionName(lines[end]!) === undefined) end++;
    for (const [key, value] of edit.values) {
      const keyLine = new RegExp(`^${key}\\s*=`);
      let found = -1;
      for (let i = start + 1; i < end; i++) if (keyLine.test(lines[i]!)) found = i;
      if (found !== -1) {
        const current = lines[found]!.slice(lines[found]!.indexOf('=') + 1).trim();
        if (current !== value) lines[found] = `${key} = ${value}`;
        continue;
      }
      // After the section's last non-blank line, before blank lines that separate it from the next.
      let at = end;
      while (at > start + 1 && lines[at - 1]!.trim() === '') at--;
      lines.splice(at, 0, `${key} = ${value}`);
      end++;
    }
  }
  const out = lines.join(eol);
  return lines.length === 0 ? '' : `${out}${eol}`;
}

export interface ConfigureResult {
  file: string;
  changed: boolean;
  backup: string | undefined;
}

/** ~/.aws/config the way the SDK finds it (AWS_CONFIG_FILE, else HOME). */
export function awsConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.AWS_CONFIG_FILE) return path.resolve(env.AWS_CONFIG_FILE.replace(/^~(?=\/)/, env.HOME ?? os.homedir()));
  return path.join(env.HOME || os.homedir(), '.aws', 'config');
}

export async function configureSsoProfile(
  spec: SsoProfileSpec,
  options: { file: string; backup: boolean; now?: Date },
): Promise<ConfigureResult> {
  validateSpec(spec);
  let file = options.file;
  let before = Buffer.alloc(0);
  let mode = 0o600;
  let exists = false;
  try {
    file = await fs.realpath(options.file); // edit a symlink's target, keep the link
    const stat = await fs.stat(file);
    if (!stat.isFile()) throw new SsmProxyError('io', `${options.file} is not a regular file`);
    before = await fs.readFile(file);
    mode = stat.mode & 0o7777;
    exists = true;
  } catch (error) {
    if (error instanceof SsmProxyError) throw error;
    if (codeOf(error) !== 'ENOENT') throw ioError(`cannot read ${options.file}`, error);
  }
  const text = before.toString('utf8');
  const after = applyConfigEdits(text, editsFor(spec));
  if (after === text) return { file, changed: false, backup: undefined };
  const backup = exists && options.backup ? await writeBackup(file, before, mode, options.now ?? new Date()) : undefined;
  await writeFileAtomic(file, after, { mode, dirMode: 0o700 });
  return { file, changed: true, backup };
}
