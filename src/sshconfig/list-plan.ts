/**
 * Lists the Host blocks that reach hosts through Session Manager: ssm-proxy's own ProxyCommand
 * or the AWS CLI's `aws ssm start-session`. Pure.
 */
import { directiveAt, findInSection, type ParsedConfig } from './locate.js';
import { parseProxyCommand } from './proxy-command.js';

export interface SsmHost {
  /** The Host line's patterns. */
  patterns: string[];
  /** 1-based line of the Host line. */
  line: number;
  via: 'ssm-proxy' | 'aws-ssm';
  target?: string;
  profile?: string;
  region?: string;
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
    let target = info.target;
    if (target === '%h' || target === '%n') {
      const hostNameLine = findInSection(config, section, 'hostname');
      const hostName = hostNameLine === undefined ? undefined : directiveAt(config, hostNameLine)!.args[0]?.value;
      // Without a HostName, %h is whatever name ssh was given: the pattern itself.
      target = target === '%h' && hostName !== undefined ? hostName : target;
    }
    if (target !== undefined) host.target = target;
    if (info.profile !== undefined) host.profile = info.profile;
    if (info.region !== undefined) host.region = info.region;
    hosts.push(host);
  }
  return hosts;
}
