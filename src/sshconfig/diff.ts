/**
 * A unified diff of two line lists, for --dry-run. Edits are local, so the common head and tail
 * are trimmed first and the LCS table only covers the changed middle.
 */
import { printable } from '../printable.js';
import type { RawLine } from './lines.js';

const CONTEXT = 3;

type Op = { op: ' ' | '-' | '+'; line: RawLine; oldNo: number; newNo: number };

export function unifiedDiff(before: readonly RawLine[], after: readonly RawLine[], oldName: string, newName: string): string {
  const ops = diffOps(before, after);
  if (ops.every((o) => o.op === ' ')) return '';
  let out = `--- ${oldName}\n+++ ${newName}\n`;
  const changed = ops.map((o, k) => (o.op !== ' ' ? k : -1)).filter((k) => k >= 0);
  let k = 0;
  while (k < changed.length) {
    const start = Math.max(0, changed[k]! - CONTEXT);
    let end = changed[k]! + CONTEXT + 1;
    while (k + 1 < changed.length && changed[k + 1]! - CONTEXT <= end) end = changed[++k]! + CONTEXT + 1;
    end = Math.min(end, ops.length);
    k++;
    const hunk = ops.slice(start, end);
    const oldCount = hunk.filter((o) => o.op !== '+').length;
    const newCount = hunk.filter((o) => o.op !== '-').length;
    const oldStart = oldCount === 0 ? hunk[0]!.oldNo : hunk.find((o) => o.op !== '+')!.oldNo + 1;
    const newStart = newCount === 0 ? hunk[0]!.newNo : hunk.find((o) => o.op !== '-')!.newNo + 1;
    out += `@@ -${oldStart},${oldCount} +${newStart},${newCount} @@\n`;
    for (const o of hunk) {
      out += `${o.op}${shown(o.line.text)}\n`;
      if (o.line.eol === '') out += '\\ No newline at end of file\n';
    }
  }
  return out;
}

/** A line as it is, unless it holds control characters a terminal would act on (tabs are fine). */
function shown(text: string): string {
  // eslint-disable-next-line no-control-regex
  return /[\x00-\x08\x0a-\x1f\x7f-\x9f]/.test(text) ? printable(text) : text;
}

function same(a: RawLine, b: RawLine): boolean {
  return a.bytes.equals(b.bytes);
}

function diffOps(a: readonly RawLine[], b: readonly RawLine[]): Op[] {
  let head = 0;
  while (head < a.length && head < b.length && same(a[head]!, b[head]!)) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && same(a[a.length - 1 - tail]!, b[b.length - 1 - tail]!)) tail++;
  const midA = a.slice(head, a.length - tail);
  const midB = b.slice(head, b.length - tail);
  // lcs[i][j]: LCS length of midA[i..] and midB[j..].
  const lcs = Array.from({ length: midA.length + 1 }, () => new Array<number>(midB.length + 1).fill(0));
  for (let i = midA.length - 1; i >= 0; i--) {
    for (let j = midB.length - 1; j >= 0; j--) {
      lcs[i]![j] = same(midA[i]!, midB[j]!) ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const ops: Op[] = [];
  let oldNo = 0;
  let newNo = 0;
  const push = (op: Op['op'], line: RawLine) => {
    ops.push({ op, line, oldNo, newNo });
    if (op !== '+') oldNo++;
    if (op !== '-') newNo++;
  };
  for (let k = 0; k < head; k++) push(' ', a[k]!);
  let i = 0;
  let j = 0;
  while (i < midA.length || j < midB.length) {
    if (i < midA.length && j < midB.length && same(midA[i]!, midB[j]!)) {
      push(' ', midA[i++]!);
      j++;
    } else if (i < midA.length && (j === midB.length || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) {
      push('-', midA[i++]!);
    } else {
      push('+', midB[j++]!);
    }
  }
  for (let k = a.length - tail; k < a.length; k++) push(' ', a[k]!);
  return ops;
}
