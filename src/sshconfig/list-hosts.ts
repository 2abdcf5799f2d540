/** list-hosts: the Session Manager hosts of a config, as a table or JSON. */
import { readUserFile } from '../files/user-file.js';
import { printable } from '../printable.js';
import { configPath, displayPath, sshFileWords } from './config-path.js';
import { splitLines } from './lines.js';
import { listSsmHosts, singleAlias, type SsmHost } from './list-plan.js';
import { parseConfig } from './locate.js';
import { ssmProxyInvocation } from './self-path.js';
import { findSsh, masterState } from './ssh-g.js';

export interface ListOptions {
  config?: string;
  home?: string;
  json?: boolean;
  self?: readonly string[];
  /** ssh for `ssh -O check`: a path, null to skip, undefined to look on PATH. */
  ssh?: string | null;
  out?: (text: string) => void;
}

export async function listHosts(options: ListOptions): Promise<SsmHost[]> {
  const out = options.out ?? ((text: string) => process.stdout.write(text));
  const file = configPath(options.config, options.home);
  const shown = displayPath(file, options.home);
  const current = await readUserFile(file, sshFileWords(shown));
  const config = parseConfig(splitLines(current.bytes), shown);
  const hosts = listSsmHosts(config, options.self ?? ssmProxyInvocation());
  if (current.exists) await checkMasters(hosts, current.path, options.ssh);
  if (options.json) {
    out(`${jsonForTerminal(hosts)}\n`);
    return hosts;
  }
  const rows = [
    ['HOST', 'VIA', 'TARGET', 'PROFILE', 'REGION', 'SHARING', 'COMPRESSION', 'LINE'],
    ...hosts.map((h) =>
      [h.patterns.join(' '), h.via, h.target ?? '-', h.profile ?? '-', h.region ?? '-', sharingCell(h), h.compression ?? '-', String(h.line)].map(printable),
    ),
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  for (const row of rows) out(`${row.map((cell, c) => (c === row.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  ')}\n`);
  return hosts;
}

/** JSON escapes C0 controls itself; DEL and C1 (which some terminals obey) get \u escapes too. */
function jsonForTerminal(value: unknown): string {
  // eslint-disable-next-line no-control-regex
  return JSON.stringify(value, null, 2).replace(/[\x7f-\x9f]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`);
}

/** `up 10m`, `down 10m`, `? 10m` (not known), or `-` without connection sharing. */
function sharingCell(host: SsmHost): string {
  if (!host.sharing) return '-';
  const state = host.sharing.master === 'up' ? 'up' : host.sharing.master === 'down' ? 'down' : '?';
  return host.sharing.controlPersist ? `${state} ${host.sharing.controlPersist}` : state;
}

/** Asks ssh whether each sharing host's master runs (`ssh -O check`: no connection is made). */
async function checkMasters(hosts: SsmHost[], configFile: string, sshOption: string | null | undefined): Promise<void> {
  const sharing = hosts.filter((h) => h.sharing !== undefined);
  if (sharing.length === 0) return;
  const ssh = sshOption === undefined ? await findSsh() : (sshOption ?? undefined);
  await Promise.all(
    sharing.map(async (host) => {
      const alias = singleAlias(host.patterns);
      host.sharing!.master = ssh === undefined || alias === undefined ? 'unknown' : await masterState(ssh, configFile, alias);
    }),
  );
}
