/** uninstall-host: undo install-host's edits for one alias, with the same safe write. */
import { configPath, displayPath } from './config-path.js';
import { unifiedDiff } from './diff.js';
import { joinLines, splitLines } from './lines.js';
import { parseConfig } from './locate.js';
import { planUninstall, type UninstallPlan } from './uninstall-plan.js';
import { checkAlias } from './validate.js';
import { readConfigFile, stageFile } from './write-atomic.js';

export interface UninstallOptions {
  alias: string;
  config?: string;
  home?: string;
  dryRun?: boolean;
  backup?: boolean;
  now?: Date;
  out?: (text: string) => void;
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
  const current = await readConfigFile(file);
  const config = parseConfig(splitLines(current.bytes), shown);
  const plan = planUninstall(config, options.alias);
  const result: UninstallResult = { file, action: plan.action };
  if (plan.action === 'nothing') {
    out(`${shown}: nothing of ssm-proxy install-host found for Host ${options.alias}; nothing changed\n`);
    return result;
  }
  if (options.dryRun) {
    result.diff = unifiedDiff(config.lines, plan.lines, shown, shown);
    out(result.diff);
    return result;
  }
  const staged = await stageFile(current, joinLines(plan.lines));
  const backup = await staged.commit({ backup: options.backup ?? true, now: options.now });
  if (backup !== undefined) result.backup = backup;
  const what = plan.action === 'removed-block' ? 'removed Host' : 'restored the original lines of Host';
  out(`${shown}: ${what} ${options.alias}${backup ? `; backup ${displayPath(backup, options.home)}` : ''}\n`);
  return result;
}
