/**
 * Undoes what install-host wrote for an alias, found through its marker comments: a block it
 * created is removed whole; in a block it rewrote, each replaced line is put back from its
 * marker and each added line is dropped. Pure.
 */
import { dominantEol, newLine, type RawLine } from './lines.js';
import { findAliasSection, lastDirective, type ParsedConfig } from './locate.js';
import { ADDED_MARKER, CREATED_MARKER, REPLACED_MARKER } from './markers.js';
import { applyEdits, type LineEdit } from './splice.js';
import { checkAlias } from './validate.js';

export interface UninstallPlan {
  lines: RawLine[];
  action: 'removed-block' | 'restored-lines' | 'nothing';
}

export function planUninstall(config: ParsedConfig, alias: string): UninstallPlan {
  checkAlias(alias);
  const section = findAliasSection(config, alias);
  const nothing: UninstallPlan = { lines: [...config.lines], action: 'nothing' };
  if (!section) return nothing;
  const eol = dominantEol(config.lines);
  const comment = (i: number) => {
    const p = config.parsed[i];
    return p?.kind === 'comment' ? p : undefined;
  };

  if (comment(section.header - 1)?.body === CREATED_MARKER) {
    let from = section.header - 1;
    let to = lastDirective(config, section) + 1;
    // Take back the blank line that separated the block from its neighbour.
    if (to < config.lines.length && config.parsed[to]!.kind === 'blank') to++;
    else if (to === config.lines.length && from > 0 && config.lines[from - 1]!.text === '') from--;
    return { lines: applyEdits(config.lines, [{ at: from, remove: to - from, insert: [] }], eol), action: 'removed-block' };
  }

  const edits: LineEdit[] = [];
  for (let i = section.header + 1; i < section.end - 1; i++) {
    const marker = comment(i);
    if (!marker) continue;
    if (marker.body === ADDED_MARKER) {
      edits.push({ at: i, remove: 2, insert: [] });
      i++;
    } else if (marker.body.startsWith(REPLACED_MARKER)) {
      // From the raw text, so the old line comes back with its trailing spaces too.
      const raw = config.lines[i]!.text;
      const old = marker.indent + raw.slice(marker.indent.length + REPLACED_MARKER.length);
      const replaced = config.lines[i + 1]!;
      const restored: RawLine =
        replaced.eol === '' ? { bytes: Buffer.from(old, 'utf8'), text: old, eol: '' } : newLine(old, replaced.eol);
      edits.push({ at: i, remove: 2, insert: [restored] });
      i++;
    }
  }
  if (edits.length === 0) return nothing;
  return { lines: applyEdits(config.lines, edits, eol), action: 'restored-lines' };
}
