/**
 * The comments install-host leaves so uninstall-host can undo exactly what it wrote, and nothing
 * else. They are ordinary comments to OpenSSH. Each carries a checksum of the lines install-host
 * wrote under it, so uninstall-host can tell when they were edited by hand since (and then keeps
 * them unless told --force). Markers without a checksum come from older versions.
 */
import { createHash } from 'node:crypto';

/** Put above a Host block install-host created; uninstall removes the whole block. */
export const CREATED_MARKER = '# added by ssm-proxy install-host';

/** Put above a line install-host changed in an existing block, followed by the old line. */
export const REPLACED_MARKER = '# ssm-proxy install-host replaced: ';
const REPLACED_WITH_SUM = /^# ssm-proxy install-host replaced \(checksum ([0-9a-f]{8})\): /;

/** Put above a line install-host added to an existing block. */
export const ADDED_MARKER = '# ssm-proxy install-host added the next line';

/** The options install-host writes in a Host block (lower case, as OpenSSH matches them). */
export const INSTALLED_KEYWORDS: ReadonlySet<string> = new Set([
  'hostname',
  'user',
  'port',
  'identityfile',
  'proxycommand',
  'controlmaster',
  'controlpath',
  'controlpersist',
  'compression',
]);

export type Marker =
  | { kind: 'created'; checksum?: string }
  | { kind: 'added'; checksum?: string }
  /** `old`: the replaced line without its indent, exactly as it was. */
  | { kind: 'replaced'; checksum?: string; old: string };

/** Reads a comment line's text after its indent (trailing spaces kept: they belong to `old`). */
export function readMarker(text: string): Marker | undefined {
  const trimmed = text.trimEnd();
  for (const [prefix, kind] of [
    [CREATED_MARKER, 'created'],
    [ADDED_MARKER, 'added'],
  ] as const) {
    if (trimmed === prefix) return { kind };
    const sum = new RegExp(`^${escapeRegex(prefix)} \\(checksum ([0-9a-f]{8})\\)$`).exec(trimmed);
    if (sum) return { kind, checksum: sum[1]! };
  }
  if (text.startsWith(REPLACED_MARKER)) return { kind: 'replaced', old: text.slice(REPLACED_MARKER.length) };
  const replaced = REPLACED_WITH_SUM.exec(text);
  if (replaced) return { kind: 'replaced', checksum: replaced[1]!, old: text.slice(replaced[0].length) };
  return undefined;
}

export function createdMarker(checksum: string): string {
  return `${CREATED_MARKER} (checksum ${checksum})`;
}

export function addedMarker(checksum: string): string {
  return `${ADDED_MARKER} (checksum ${checksum})`;
}

export function replacedMarker(checksum: string, old: string): string {
  return `# ssm-proxy install-host replaced (checksum ${checksum}): ${old}`;
}

/**
 * The checksum of lines as install-host wrote them: their text without line ends, blank lines
 * skipped (an empty line changes nothing ssh does). 32 bits: this detects edits, it is no seal.
 */
export function checksumOf(texts: readonly string[]): string {
  const hash = createHash('sha256');
  for (const text of texts) {
    if (text.trim() === '') continue;
    hash.update(text);
    hash.update('\n');
  }
  return hash.digest('hex').slice(0, 8);
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
