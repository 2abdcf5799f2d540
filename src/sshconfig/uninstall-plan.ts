/**
 * Undoes what install-host wrote for an alias, found through its marker comments: a block it
 * created is removed whole; in a block it rewrote, each replaced line is put back from its
 * marker and each added line is dropped. Only what ssm-proxy wrote and still owns is touched:
 * when those lines were edited by hand since, the plan refuses and says what differs, unless
 * `force` (then they are removed anyway). Pure.
 */
import { SsmProxyError } from '../errors.js';
import { dominantEol, newLine, type RawLine } from './lines.js';
import { findAliasSection, lastDirective, type ParsedConfig } from './locate.js';
import { createdBlockEdits, markedLineEdit, markerAt } from './ownership.js';
import { applyEdits, type LineEdit } from './splice.js';
import { checkAlias } from './validate.js';

export interface UninstallPlan {
  lines: RawLine[];
  action: 'removed-block' | 'restored-lines' | 'nothing';
  /** Hand edits that --force removed along with the rest (empty without them). */
  overridden: string[];
  /** A ControlMaster line of ssm-proxy's goes: its running master should be stopped too. */
  endsSharing: boolean;
}

export function planUninstall(config: ParsedConfig, alias: string, options: { force?: boolean; shownAs?: string } = {}): UninstallPlan {
  checkAlias(alias);
  const section = findAliasSection(config, alias);
  const nothing: UninstallPlan = { lines: [...config.lines], action: 'nothing', overridden: [], endsSharing: false };
  const isControlMaster = (i: number) => config.parsed[i]?.kind === 'directive' && (config.parsed[i] as { keyword: string }).keyword === 'controlmaster';
  if (!section) return nothing;
  const eol = dominantEol(config.lines);
  const refuse = (what: string, edits: string[], forceDoes: string) => {
    if (options.force || edits.length === 0) return;
    throw new SsmProxyError(
      'config',
      `${options.shownAs ?? 'the config'}: ${what} was edited since install-host wrote it (${edits.join('; ')}); ` +
        `uninstall-host removes only untouched lines, so nothing changed — undo those edits, or pass --force to ${forceDoes}`,
    );
  };

  const head = markerAt(config, section.header - 1);
  if (head?.marker.kind === 'created') {
    let from = section.header - 1;
    let to = lastDirective(config, section) + 1;
    const edits = createdBlockEdits(config, section, alias, head.marker);
    refuse(`Host ${alias}`, edits, `remove lines ${from + 1}–${to} anyway`);
    // Take back the blank line that separated the block from its neighbour.
    if (to < config.lines.length && config.parsed[to]!.kind === 'blank') to++;
    else if (to === config.lines.length && from > 0 && config.lines[from - 1]!.text === '') from--;
    let endsSharing = false;
    for (let i = from; i < to; i++) endsSharing ||= isControlMaster(i);
    return { lines: applyEdits(config.lines, [{ at: from, remove: to - from, insert: [] }], eol), action: 'removed-block', overridden: edits, endsSharing };
  }

  const edits: LineEdit[] = [];
  const changed: string[] = [];
  let endsSharing = false;
  for (let i = section.header + 1; i < section.end - 1; i++) {
    const at = markerAt(config, i);
    if (!at || at.marker.kind === 'created') continue;
    const edit = markedLineEdit(config, at);
    if (edit !== undefined) changed.push(edit);
    if (at.marker.kind === 'added') {
      endsSharing ||= isControlMaster(i + 1);
      edits.push({ at: i, remove: 2, insert: [] });
    } else {
      // From the raw text, so the old line comes back with its trailing spaces too.
      const old = at.indent + at.marker.old;
      const replaced = config.lines[i + 1]!;
      const restored: RawLine = replaced.eol === '' ? { bytes: Buffer.from(old, 'utf8'), text: old, eol: '' } : newLine(old, replaced.eol);
      edits.push({ at: i, remove: 2, insert: [restored] });
    }
    i++;
  }
  if (edits.length === 0) return nothing;
  refuse(`a line install-host set in Host ${alias}`, changed, 'put the original lines back anyway');
  return { lines: applyEdits(config.lines, edits, eol), action: 'restored-lines', overridden: changed, endsSharing };
}
