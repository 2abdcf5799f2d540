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
    appendAll(out, lines, next, edit.at, eol);
    appendAll(out, edit.insert, 0, edit.insert.length, eol);
    next = edit.at + edit.remove;
  }
  appendAll(out, lines, next, lines.length, eol);
  return out;
}

/**
 * Appends add[from, to); a last line without a newline gets one when something follows it. One
 * push per line: spreading a slice into push() overflows the stack beyond ~120 000 lines.
 */
function appendAll(out: RawLine[], add: readonly RawLine[], from: number, to: number, eol: '\n' | '\r\n'): void {
  for (let k = from; k < to; k++) {
    const line = add[k]!;
    const last = out.length - 1;
    if (last >= 0 && out[last]!.eol === '') out[last] = withEol(out[last]!, eol);
    out.push(line);
  }
}
