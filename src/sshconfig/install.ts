/**
 * install-host: read the config, plan the edit, show it (--dry-run) or stage it, check it with
 * ssh -G, keep a backup and rename it into place. The file is only replaced once the check passed,
 * and the whole read-modify-write holds the file's lock, so parallel installs each land.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { withFileLock } from '../files/file-lock.js';
import { prepareDirectory, readUserFile, removeStaleTemps, stageUserFile } from '../files/user-file.js';
import { printable } from '../printable.js';
import { configPath, displayPath, sshDir, sshFileWords } from './config-path.js';
import { unifiedDiff } from './diff.js';
import { planInstall, type FastOptions, type InstallPlan, type InstallRequest } from './install-plan.js';
import { joinLines, splitLines } from './lines.js';
import { parseConfig } from './locate.js';
import { ssmProxyInvocation } from './self-path.js';
import { checkAlias, checkControlPersist, checkIdentityFile, checkPort, checkProfile, checkRegion, checkTarget, checkUser } from './validate.js';
import { findSsh } from './ssh-g.js';
import { verifyWithSsh } from './verify.js';

export interface InstallOptions extends Omit<InstallRequest, 'self' | 'fast'> {
  /**
   * The fast block (connection sharing, compression); the CLI turns both on. Undefined leaves
   * those options alone.
   */
  fast?: { sharing: boolean; controlPersist?: string; compression: boolean };
  /** --config; default ~/.ssh/config under `home`. */
  config?: string;
  /** Home directory (tests point it at a temp dir); default os.homedir(). */
  home?: string;
  dryRun?: boolean;
  /** Keep a backup before changing an existing file (default true). */
  backup?: boolean;
  /** argv words of this ssm-proxy; default ssmProxyInvocation(). */
  self?: readonly string[];
  /** ssh for the -G check: a path, null to skip, undefined to look on PATH. */
  ssh?: string | null;
  now?: Date;
  out?: (text: string) => void;
  /** Bounded wait for another writer's lock (default DEFAULT_LOCK_TIMEOUT_MS). */
  lockTimeoutMs?: number;
}

export interface InstallResult {
  file: string;
  action: InstallPlan['action'];
  changed: boolean;
  backup?: string;
  diff?: string;
  verified: boolean;
}

export async function installHost(options: InstallOptions): Promise<InstallResult> {
  const out = options.out ?? ((text: string) => process.stdout.write(text));
  // Flags first: a typo must fail before the file is even read.
  checkAlias(options.alias);
  if (options.target !== undefined) checkTarget(options.target, 'from --target');
  if (options.profile !== undefined) checkProfile(options.profile, 'from --profile');
  if (options.region !== undefined) checkRegion(options.region, 'from --region');
  if (options.port !== undefined) checkPort(options.port, 'from --port');
  if (options.user !== undefined) checkUser(options.user);
  if (options.identityFile !== undefined) checkIdentityFile(options.identityFile);
  if (options.fast?.controlPersist !== undefined) checkControlPersist(options.fast.controlPersist);

  const file = configPath(options.config, options.home);
  const shown = displayPath(file, options.home);
  const words = sshFileWords(shown);
  const { fast: _fast, ...flags } = options;
  const request: InstallRequest = { ...flags, self: options.self ?? ssmProxyInvocation() };
  const sharingSkipped = options.fast?.sharing ? await whySharingSkipped(file, options.home) : undefined;
  if (options.fast) request.fast = fastOptions(options.fast, sharingSkipped === undefined ? controlPathFor(options.home) : undefined);

  if (options.dryRun) {
    const current = await readUserFile(file, words);
    const config = parseConfig(splitLines(current.bytes), shown);
    const plan = planInstall(config, request);
    const diff = unifiedDiff(config.lines, plan.lines, current.exists ? shown : '/dev/null', shown);
    out(diff === '' ? `${shown}: Host ${options.alias} is already set up; nothing would change\n` : diff);
    const changed = !current.exists || !joinLines(plan.lines).equals(current.bytes);
    return { file, action: changed ? plan.action : 'unchanged', changed, verified: false, diff };
  }

  const realPath = await prepareDirectory(file, sshDir(options.home), words);
  const locked = await withFileLock(realPath, () => installLocked(options, request, file, shown), {
    shownAs: shown,
    hint: words.hint,
    ...(options.lockTimeoutMs !== undefined ? { timeoutMs: options.lockTimeoutMs } : {}),
  });
  if (sharingSkipped !== undefined) out(`${shown}: connection sharing left out: ${sharingSkipped}\n`);
  if (locked.result.changed) out(locked.message);
  else out(`${shown}: Host ${options.alias} is already set up; nothing changed\n`);
  return locked.result;
}

/** Read, plan, stage, verify, commit: everything that must see one version of the file. */
async function installLocked(
  options: InstallOptions,
  request: InstallRequest,
  file: string,
  shown: string,
): Promise<{ result: InstallResult; message: string }> {
  const words = sshFileWords(shown);
  const current = await readUserFile(file, words);
  await removeStaleTemps(current.realPath);
  const config = parseConfig(splitLines(current.bytes), shown);
  const plan = planInstall(config, request);
  const bytes = joinLines(plan.lines);
  const changed = !current.exists || !bytes.equals(current.bytes);
  const result: InstallResult = { file, action: changed ? plan.action : 'unchanged', changed, verified: false };
  if (!changed) return { result, message: '' };

  const staged = await stageUserFile(current, bytes, words);
  try {
    const ssh = options.ssh === undefined ? await findSsh() : (options.ssh ?? undefined);
    if (ssh !== undefined) {
      await verifyWithSsh(ssh, staged.tempPath, shown, options.alias, plan.expect);
      result.verified = true;
    }
  } catch (error) {
    await staged.discard();
    throw error;
  }
  const backup = await staged.commit({ backup: options.backup ?? true, now: options.now });
  if (backup !== undefined) result.backup = backup;

  const s = plan.settings;
  const details = [`target ${s.target}`, s.profile && `profile ${s.profile}`, s.region && `region ${s.region}`]
    .filter(Boolean)
    .join(', ');
  const migrated = plan.migratedFrom?.kind === 'aws-ssm' ? `; migrated from aws ssm start-session (line ${plan.migratedFrom.line})` : '';
  const message =
    `${shown}: ${plan.action === 'created' ? 'added' : 'updated'} Host ${options.alias} (${details})${migrated}` +
    `${backup ? `; backup ${displayPath(backup, options.home)}` : ''}${result.verified ? '; checked with ssh -G' : ''}\n`;
  return { result, message };
}

/** How long an idle master (and its SSM session) stays up after the last ssh to the host ends. */
export const DEFAULT_CONTROL_PERSIST = '10m';

/**
 * A socket path may hold 103 bytes on macOS (104 with its NUL; 107 on Linux). ssh binds
 * `<ControlPath>.<16 random characters>` first and renames it, and %C is 40 hex digits.
 */
const MAX_SOCKET_PATH = 103;
const SSH_TEMP_SUFFIX = 17;
const CONTROL_HASH = 40;

/** `~/.ssh/cm-%C`, spelled absolutely when HOME is not the passwd home ssh expands `~` to. */
export function controlPathFor(home: string | undefined): string | undefined {
  const dir = sshDir(home);
  if (Buffer.byteLength(path.join(dir, 'cm-')) + CONTROL_HASH + SSH_TEMP_SUFFIX > MAX_SOCKET_PATH) return undefined;
  let passwdHome: string | undefined;
  try {
    passwdHome = os.userInfo().homedir;
  } catch {
    passwdHome = undefined;
  }
  const shown = passwdHome !== undefined && dir === path.join(passwdHome, '.ssh') ? '~/.ssh' : dir.replace(/%/g, '%%');
  return `${shown}/cm-%C`;
}

/**
 * Why the sharing trio cannot be written here, if it cannot: Windows' OpenSSH has no connection
 * sharing; a socket path that would be too long; or no ~/.ssh to hold the socket (ssh fails
 * outright, after connecting, when it cannot create it). ~/.ssh is made when the file edited is
 * ~/.ssh/config, never for the socket alone.
 */
async function whySharingSkipped(file: string, home: string | undefined): Promise<string | undefined> {
  if (process.platform === 'win32') return "Windows' OpenSSH has no ControlMaster";
  const dir = sshDir(home);
  if (controlPathFor(home) === undefined) return `a ControlPath under ${printable(dir)} would be longer than a socket path may be`;
  const isDir = await fs.stat(dir).then((st) => st.isDirectory(), () => false);
  if (!isDir && path.dirname(file) !== dir) return `${printable(dir)} does not exist to hold the ControlPath socket`;
  return undefined;
}

function fastOptions(fast: NonNullable<InstallOptions['fast']>, controlPath: string | undefined): FastOptions {
  if (!fast.sharing) controlPath = undefined;
  return {
    sharing: controlPath === undefined ? null : { controlPath, controlPersist: fast.controlPersist ?? DEFAULT_CONTROL_PERSIST },
    compression: fast.compression,
  };
}
