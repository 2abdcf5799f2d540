import { promises as fs } from 'node:fs';
import { SsmProxyError } from '../errors.js';
import { printable } from '../printable.js';
import { configPath } from '../sshconfig/config-path.js';
import { parseProxyCommand } from '../sshconfig/proxy-command.js';
import { resolveWithExpandedHostName } from '../sshconfig/proxy-target.js';
import { ssmProxyInvocation } from '../sshconfig/self-path.js';
import { findSsh, firstOption, masterState, runSshG, sharingOn, type SshOptions } from '../sshconfig/ssh-g.js';
import { checkAlias } from '../sshconfig/validate.js';
import { failed, passed, type CheckResult } from './check-result.js';

/** What the alias's ProxyCommand says, for the checks that follow. */
export interface AliasSettings {
  hostname?: string;
  target?: string;
  profile?: string;
  region?: string;
  port?: number;
}

/**
 * `ssh -G -F file alias`: the options ssh will really use (first match wins, Include, Match), read
 * from the same file install-host edits (--ssh-config, else ~/.ssh/config under $HOME — not the
 * passwd entry's home, which ssh alone would read). Passes when the ProxyCommand is
 * `ssm-proxy connect …`; its target, profile and region are returned so the later checks test
 * what ssh will do.
 */
export async function checkSshConfig(alias: string, configFile: string | undefined): Promise<{ result: CheckResult; settings: AliasSettings }> {
  const label = 'ssh config';
  const file = configPath(configFile, undefined);
  const shownAlias = printable(alias);
  const install = installHint(alias);
  const fail = (message: string, fix: string) => ({ result: failed(label, new SsmProxyError('config', message), fix), settings: {} });

  if (!(await fs.stat(file).then((s) => s.isFile(), () => false))) {
    return fail(`${printable(file)} does not exist or is not a file`, `run '${install} --target i-…'${configFile ? '' : ' (or pass --ssh-config)'}`);
  }
  const ssh = await findSsh();
  if (ssh === undefined) return fail('ssh is not installed or not on PATH', 'install OpenSSH');
  let options: SshOptions;
  try {
    options = await runSshG(ssh, file, alias);
  } catch (error) {
    return fail(`ssh -G ${shownAlias} failed: ${(error as Error).message}`, `check ${printable(file)}`);
  }
  const hostname = firstOption(options, 'hostname');
  const port = firstOption(options, 'port');
  const user = firstOption(options, 'user');
  const proxyCommand = firstOption(options, 'proxycommand');
  const summary = printable(`${alias} → HostName ${hostname ?? '?'}, Port ${port ?? '22'}${user ? `, User ${user}` : ''}`);
  if (!proxyCommand || proxyCommand === 'none') return fail(`${summary}, no ProxyCommand`, `run '${install} --target i-…'`);
  const info = parseProxyCommand(proxyCommand, ssmProxyInvocation());
  if (info.kind !== 'ssm-proxy') {
    const what = info.kind === 'aws-ssm' ? "ProxyCommand is 'aws ssm start-session …'" : `ProxyCommand is not ssm-proxy (${printable(proxyCommand)})`;
    return fail(`${summary}, ${what}`, `run '${install}' to switch it to ssm-proxy`);
  }
  const target = resolveWithExpandedHostName(info.target, alias, hostname);
  const settings: AliasSettings = {
    ...(hostname ? { hostname } : {}),
    ...(target ? { target } : {}),
    ...(info.profile ? { profile: info.profile } : {}),
    ...(info.region ? { region: info.region } : {}),
    ...(port && /^\d+$/.test(port) ? { port: Number(port) } : {}),
  };
  const via = [`target ${target ?? '?'}`, ...(info.profile ? [`profile ${info.profile}`] : []), ...(info.region ? [`region ${info.region}`] : [])];
  const controlMaster = firstOption(options, 'controlmaster');
  let sharing = '';
  if (sharingOn(controlMaster)) {
    const master = await masterState(ssh, file, alias);
    sharing = `, connection sharing on (master ${master === 'unknown' ? 'state unknown' : master})`;
  }
  return { result: passed(label, `${summary}, ProxyCommand ssm-proxy connect (${printable(via.join(', '))})${sharing}`), settings };
}

/** The install-host command to suggest: with the alias only when install-host would take it. */
function installHint(alias: string): string {
  try {
    checkAlias(alias);
    return `ssm-proxy install-host ${alias}`;
  } catch {
    return 'ssm-proxy install-host <the name you type after ssh>';
  }
}
