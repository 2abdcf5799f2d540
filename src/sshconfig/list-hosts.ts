/** list-hosts: the Session Manager hosts of a config, as a table or JSON. */
import { configPath, displayPath } from './config-path.js';
import { splitLines } from './lines.js';
import { listSsmHosts, type SsmHost } from './list-plan.js';
import { parseConfig } from './locate.js';
import { ssmProxyInvocation } from './self-path.js';
import { readConfigFile } from './write-atomic.js';

export interface ListOptions {
  config?: string;
  home?: string;
  json?: boolean;
  self?: readonly string[];
  out?: (text: string) => void;
}

export async function listHosts(options: ListOptions): Promise<SsmHost[]> {
  const out = options.out ?? ((text: string) => process.stdout.write(text));
  const file = configPath(options.config, options.home);
  const current = await readConfigFile(file);
  const config = parseConfig(splitLines(current.bytes), displayPath(file, options.home));
  const hosts = listSsmHosts(config, options.self ?? ssmProxyInvocation());
  if (options.json) {
    out(`${JSON.stringify(hosts, null, 2)}\n`);
    return hosts;
  }
  const rows = [
    ['HOST', 'VIA', 'TARGET', 'PROFILE', 'REGION', 'LINE'],
    ...hosts.map((h) => [h.patterns.join(' '), h.via, h.target ?? '-', h.profile ?? '-', h.region ?? '-', String(h.line)]),
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  for (const row of rows) out(`${row.map((cell, c) => (c === row.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  ')}\n`);
  return hosts;
}
