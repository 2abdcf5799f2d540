/** uninstall-host: undo install-host's edits for one alias, under the file's lock, with the same safe write. */
import { withFileLock } from '../files/file-lock.js';
import { prepareDirectory, readUserFile, removeStaleTemps, stageUserFile } from '../files/user-file.js';
import { configPath, displayPath, sshFileWords } from './config-path.js';
import { unifiedDiff } from './diff.js';
import { joinLines, splitLines } from './lines.js';
import { findSsh, stopMaster } from './ssh-g.js';
import { parseConfig } from './locate.js';
import { planUninstall, type UninstallPlan } from './uninstall-plan.js';
import { checkAlias } from './validate.js';

export interface UninstallOptions {
  alias: string;
  config?: string;
  home?: string;
  dryRun?: boolean;
  backup?: boolean;
  /** Remove install-host's lines even when they were edited by hand since. */
  force?: boolean;
  now?: Date;
  out?: (text: string) => void;
  lockTimeoutMs?: number;
  /** ssh for stopping a master install-host's block started: a path, null to skip, undefined to look on PATH. */
  ssh?: string | null;
}

export interface UninstallResult {
  file: string;
  action: UninstallPlan['action'];
  backup?: string;
  diff?: string;
}

export async function uninstallHost(options: UninstallOptions): Promise<UninstallResult> {
  const out = options.out ?? ((text: string) => process.stdout.write(text));
  checkAlias(options.alias);
  const file = configPath(options.config, options.home);
  const shown = displayPath(file, options.home);
  const words = sshFileWords(shown);
  const plan = async () => {
    const current = await readUserFile(file, words);
    const config = parseConfig(splitLines(current.bytes), shown);
    return { current, config, plan: planUninstall(config, options.alias, { force: options.force ?? false, shownAs: shown }) };
  };
  const nothing = `${shown}: nothing of ssm-proxy install-host found for Host ${options.alias}; nothing changed\n`;

  if (options.dryRun) {
    const { config, plan: p } = await plan();
    const result: UninstallResult = { file, action: p.action };
    if (p.action === 'nothing') out(nothing);
    else out((result.diff = unifiedDiff(config.lines, p.lines, shown, shown)));
    return result;
  }
  const current = await readUserFile(file, words);
  if (!current.exists) {
    out(nothing);
    return { file, action: 'nothing' };
  }
  const realPath = await prepareDirectory(file, undefined, words);
  return withFileLock(
    realPath,
    async () => {
      await removeStaleTemps(realPath);
      const { current: locked, plan: p } = await plan();
      const result: UninstallResult = { file, action: p.action };
      if (p.action === 'nothing') {
        out(nothing);
        return result;
      }
      if (p.endsSharing) {
        // While the file still names the ControlPath: stop the master, or it and its SSM session
        // would linger for ControlPersist.
        const ssh = options.ssh === undefined ? await findSsh() : (options.ssh ?? undefined);
        if (ssh !== undefined) await stopMaster(ssh, file, options.alias);
      }
      const staged = await stageUserFile(locked, joinLines(p.lines), words);
      const backup = await staged.commit({ backup: options.backup ?? true, now: options.now });
      if (backup !== undefined) result.backup = backup;
      const what = p.action === 'removed-block' ? 'removed Host' : 'restored the original lines of Host';
      const forced = p.overridden.length > 0 ? ` (--force: hand edits removed too: ${p.overridden.join('; ')})` : '';
      out(`${shown}: ${what} ${options.alias}${forced}${backup ? `; backup ${displayPath(backup, options.home)}` : ''}\n`);
      return result;
    },
    { shownAs: shown, hint: words.hint, ...(options.lockTimeoutMs !== undefined ? { timeoutMs: options.lockTimeoutMs } : {}) },
  );
}
