/**
 * The instance a ProxyCommand reaches when its target is written with ssh's %-tokens (`connect
 * %h %p`, `--target %n`). One resolution for install-host, list-hosts and doctor, following
 * ssh_config(5): %n is the name given to ssh (the alias), %h the HostName (itself expanded with
 * %h = the alias; the alias when there is no HostName), %% a literal '%'. Any other token cannot
 * be known from the config, so the target is then unknown. Pure.
 */

export interface HostNames {
  /** The name typed after ssh; undefined when not known (a wildcard Host line). */
  alias: string | undefined;
  /** The HostName that applies, exactly as written in the config (may itself hold %h). */
  hostName: string | undefined;
}

/** ssh's expansion of HostName: %h is the name given to ssh, %% a '%'. */
export function expandHostName(hostName: string, alias: string | undefined): string | undefined {
  return expandTokens(hostName, { h: alias });
}

/** The target with its tokens resolved, or undefined when a token cannot be known. */
export function resolveProxyTarget(target: string | undefined, names: HostNames): string | undefined {
  if (target === undefined) return undefined;
  const hostName = names.hostName === undefined ? names.alias : expandHostName(names.hostName, names.alias);
  return expandTokens(target, { h: hostName, n: names.alias });
}

/** The same with ssh -G's answer, whose hostname is already expanded. */
export function resolveWithExpandedHostName(target: string | undefined, alias: string, hostname: string | undefined): string | undefined {
  if (target === undefined) return undefined;
  return expandTokens(target, { h: hostname ?? alias, n: alias });
}

function expandTokens(text: string, values: { h?: string | undefined; n?: string | undefined }): string | undefined {
  if (!text.includes('%')) return text;
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch !== '%') {
      out += ch;
      continue;
    }
    const token = text[++i];
    if (token === '%') out += '%';
    else if (token === 'h' && 'h' in values && values.h !== undefined) out += values.h;
    else if (token === 'n' && 'n' in values && values.n !== undefined) out += values.n;
    else return undefined;
  }
  return out;
}
