/**
 * Agent version gates for port forwarding (docs/protocol.md §16.1), compared the way the plugin
 * does: dotted decimal parts, missing parts count as 0, and anything unparsable is "not newer".
 */

/** smux multiplexing: agents strictly newer than this. */
export const MUX_AFTER_AGENT_VERSION = '3.0.196.0';
/** Agents strictly newer than this expect no smux keep-alive from the client. */
export const NO_KEEPALIVE_AFTER_AGENT_VERSION = '3.1.1511.0';

/** -1, 0 or 1; undefined when either is not a dotted decimal version. */
export function compareVersions(a: string, b: string): number | undefined {
  const left = parse(a);
  const right = parse(b);
  if (!left || !right) return undefined;
  for (let i = 0; i < Math.max(left.length, right.length); i++) {
    const difference = (left[i] ?? 0) - (right[i] ?? 0);
    if (difference !== 0) return difference < 0 ? -1 : 1;
  }
  return 0;
}

export function isNewerThan(version: string, than: string): boolean {
  return compareVersions(version, than) === 1;
}

function parse(version: string): number[] | undefined {
  if (!/^\d{1,9}(\.\d{1,9})*$/.test(version)) return undefined;
  return version.split('.').map(Number);
}
