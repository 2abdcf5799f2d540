/**
 * Lists the Host blocks that reach hosts through Session Manager: ssm-proxy's own ProxyCommand
 * or the AWS CLI's `aws ssm start-session`. Pure.
 */
import { directiveAt, findInSection, firstValue, type ParsedConfig, type Section } from './locate.js';
import { parseProxyCommand } from './proxy-command.js';
import { resolveProxyTarget } from './proxy-target.js';
import { sharingOn } from './ssh-g.js';

export interface SsmHost {
  /** The Host line's patterns. */
  patterns: string[];
  /** 1-based line of the Host line. */
  line: number;
  via: 'ssm-proxy' | 'aws-ssm';
  target?: string;
  profile?: string;
  region?: string;
  /** Connection sharing, when ControlMaster is on for the host; `master` is filled in by list-hosts. */
  sharing?: { controlMaster: string; controlPersist?: string; master?: 'up' | 'down' | 'unknown' };
  /** Compression as set for the host. */
  compression?: string;
}

export function listSsmHosts(config: ParsedConfig, self: readonly string[]): SsmHost[] {
  const hosts: SsmHost[] = [];
  for (const section of config.sections) {
    if (section.kind !== 'host') continue;
    const index = findInSection(config, section, 'proxycommand');
    if (index === undefined) continue;
    const info = parseProxyCommand(directiveAt(config, index)!.rest, self);
    if (info.kind === 'other') continue;
    const host: SsmHost = { patterns: [...section.patterns], line: section.header + 1, via: info.kind };
    // Unknown tokens (a wildcard Host line's %h) are shown as written.
    const target = resolveProxyTarget(info.target, hostNames(config, section)) ?? info.target;
    if (target !== undefined) host.target = target;
    if (info.profile !== undefined) host.profile = info.profile;
    if (info.region !== undefined) host.region = info.region;
    const names = hostNames(config, section);
    const option = (keyword: string) => optionFor(config, section, names.alias, keyword);
    const controlMaster = option('controlmaster');
    if (controlMaster !== undefined && sharingOn(controlMaster)) {
      const controlPersist = option('controlpersist');
      host.sharing = { controlMaster, ...(controlPersist !== undefined ? { controlPersist } : {}) };
    }
    const compression = option('compression');
    if (compression !== undefined) host.compression = compression;
    hosts.push(host);
  }
  return hosts;
}

/** The one host a Host line names (a single pattern without wildcards), if it names one. */
export function singleAlias(patterns: readonly string[]): string | undefined {
  const positive = patterns.filter((p) => !p.startsWith('!'));
  return positive.length === 1 && !/[*?]/.test(positive[0]!) ? positive[0] : undefined;
}

/** The alias a section names and the HostName ssh would use for it. */
function hostNames(config: ParsedConfig, section: Section): { alias: string | undefined; hostName: string | undefined } {
  const alias = singleAlias(section.patterns);
  if (alias !== undefined) return { alias, hostName: firstValue(config, alias, 'hostname')?.value.args[0]?.value };
  const own = findInSection(config, section, 'hostname');
  return { alias, hostName: own === undefined ? undefined : directiveAt(config, own)!.args[0]?.value };
}

/** The option ssh uses for the alias (first match wins), or the section's own line for a pattern. */
function optionFor(config: ParsedConfig, section: Section, alias: string | undefined, keyword: string): string | undefined {
  if (alias !== undefined) return firstValue(config, alias, keyword)?.value.args[0]?.value;
  const own = findInSection(config, section, keyword);
  return own === undefined ? undefined : directiveAt(config, own)!.args[0]?.value;
}
