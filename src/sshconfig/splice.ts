/**
 * Applies line edits to a file's lines. Lines outside the edits are passed through as the same
 * RawLine objects, so their bytes are exactly the bytes that were read.
 */
import { withEol, type RawLine } from './lines.js';

export interface LineEdit {
  /** Index of the first line replaced, or where the insertion goes. */
  readonly at: number;
  /** How many lines from `at` are removed. */
  readonly remove: number;
  readonly insert: readonly RawLine[];
}

export function applyEdits(lines: readonly RawLine[], edits: readonly LineEdit[], eol: '\n' | '\r\n'): RawLine[] {
  const sorted = [...edits].sort((a, b) => a.at - b.at);
  for (let k = 1; k < sorted.length; k++) {
    if (sorted[k]!.at < sorted[k - 1]!.at + sorted[k - 1]!.remove) throw new Error('overlapping config edits');
  }
  const out: RawLine[] = [];
  let next = 0;
  for (const edit of sorted) {
    out.push(...lines.slice(next, edit.at));
    appendAll(out, edit.insert, eol);
    next = edit.at + edit.remove;
  }
  appendAll(out, lines.slice(next), eol);
  return out;
}

/** Appends lines; a last line without a newline gets one when something follows it. */
function appendAll(out: RawLine[], add: readonly RawLine[], eol: '\n' | '\r\n'): void {
  for (const line of add) {
    const last = out.length - 1;
    if (last >= 0 && out[last]!.eol === '') out[last] = withEol(out[last]!, eol);
    out.push(line);
  }
}
