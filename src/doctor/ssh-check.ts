import { execFile } from 'node:child_process';
import { SsmProxyError } from '../errors.js';
import { parseProxyCommand } from '../sshconfig/proxy-command.js';
import { ssmProxyInvocation } from '../sshconfig/self-path.js';
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
 * `ssh -G [-F file] alias`: the options ssh will really use (first match wins, Include, Match).
 * Passes when the ProxyCommand is `ssm-proxy connect …`; its target, profile and region are
 * returned so the later checks test what ssh will do.
 */
export async function checkSshConfig(alias: string, configFile: string | undefined): Promise<{ result: CheckResult; settings: AliasSettings }> {
  const label = 'ssh config';
  let options: Map<string, string>;
  try {
    options = await sshG(alias, configFile);
  } catch (error) {
    return { result: failed(label, new SsmProxyError('config', `ssh -G ${alias} failed: ${(error as Error).message}`), 'check the ssh config file (and that OpenSSH is installed)'), settings: {} };
  }
  const hostname = options.get('hostname');
  const port = options.get('port');
  const user = options.get('user');
  const proxyCommand = options.get('proxycommand');
  const summary = `${alias} → HostName ${hostname ?? '?'}, Port ${port ?? '22'}${user ? `, User ${user}` : ''}`;
  if (!proxyCommand || proxyCommand === 'none') {
    return {
      result: failed(label, new SsmProxyError('config', `${summary}, no ProxyCommand`), `run 'ssm-proxy install-host ${alias} --target i-…'`),
      settings: {},
    };
  }
  const info = parseProxyCommand(proxyCommand, ssmProxyInvocation());
  if (info.kind !== 'ssm-proxy') {
    const what = info.kind === 'aws-ssm' ? "ProxyCommand is 'aws ssm start-session …'" : `ProxyCommand is not ssm-proxy (${proxyCommand})`;
    return {
      result: failed(label, new SsmProxyError('config', `${summary}, ${what}`), `run 'ssm-proxy install-host ${alias}' to switch it to ssm-proxy`),
      settings: {},
    };
  }
  const target = !info.target || info.target === '%h' ? hostname : info.target;
  const settings: AliasSettings = {
    ...(hostname ? { hostname } : {}),
    ...(target ? { target } : {}),
    ...(info.profile ? { profile: info.profile } : {}),
    ...(info.region ? { region: info.region } : {}),
    ...(port && /^\d+$/.test(port) ? { port: Number(port) } : {}),
  };
  const via = [`target ${target ?? '?'}`, ...(info.profile ? [`profile ${info.profile}`] : []), ...(info.region ? [`region ${info.region}`] : [])];
  return { result: passed(label, `${summary}, ProxyCommand ssm-proxy connect (${via.join(', ')})`), settings };
}

function sshG(alias: string, configFile: string | undefined): Promise<Map<string, string>> {
  const args = ['-G', ...(configFile ? ['-F', configFile] : []), '--', alias];
  return new Promise((resolve, reject) => {
    execFile('ssh', args, { timeout: 15_000, maxBuffer: 4 << 20 }, (error, stdout, stderr) => {
      if (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') return reject(new Error('ssh is not installed or not on PATH'));
        return reject(new Error(String(stderr).trim().split('\n')[0] || error.message));
      }
      const options = new Map<string, string>();
      for (const line of String(stdout).split('\n')) {
        const space = line.indexOf(' ');
        if (space > 0 && !options.has(line.slice(0, space))) options.set(line.slice(0, space), line.slice(space + 1));
      }
      resolve(options);
    });
  });
}
