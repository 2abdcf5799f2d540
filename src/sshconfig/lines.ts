/**
 * A config file as a list of lines that remember their exact bytes. Lines we do not edit are
 * written back from these bytes, never re-encoded, so a file with CRLF, tabs, odd spacing or even
 * bytes that are not UTF-8 survives an edit byte for byte.
 */

export type Eol = '' | '\n' | '\r\n';

export interface RawLine {
  /** The line's bytes including its end-of-line. */
  readonly bytes: Buffer;
  /** The line's text without its end-of-line, decoded as UTF-8 (for reading only). */
  readonly text: string;
  /** '' only for a last line without a final newline. */
  readonly eol: Eol;
}

export function splitLines(buf: Buffer): RawLine[] {
  const lines: RawLine[] = [];
  let start = 0;
  while (start < buf.length) {
    const nl = buf.indexOf(0x0a, start);
    const end = nl === -1 ? buf.length : nl + 1;
    const bytes = buf.subarray(start, end);
    let eol: Eol = '';
    let contentEnd = end;
    if (nl !== -1) {
      const crlf = nl > start && buf[nl - 1] === 0x0d;
      eol = crlf ? '\r\n' : '\n';
      contentEnd = crlf ? nl - 1 : nl;
    }
    lines.push({ bytes, text: buf.toString('utf8', start, contentEnd), eol });
    start = end;
  }
  return lines;
}

/** The end-of-line new lines should use: the file's first one, or '\n' for a file without any. */
export function dominantEol(lines: readonly RawLine[]): '\n' | '\r\n' {
  for (const line of lines) if (line.eol !== '') return line.eol;
  return '\n';
}

/** A line we write ourselves, ending with the given end-of-line. */
export function newLine(text: string, eol: '\n' | '\r\n'): RawLine {
  return { bytes: Buffer.from(text + eol, 'utf8'), text, eol };
}

/** The same line with an end-of-line added (a last line gets one when we append after it). */
export function withEol(line: RawLine, eol: '\n' | '\r\n'): RawLine {
  if (line.eol !== '') return line;
  return { bytes: Buffer.concat([line.bytes, Buffer.from(eol)]), text: line.text, eol };
}

export function joinLines(lines: readonly RawLine[]): Buffer {
  return Buffer.concat(lines.map((l) => l.bytes));
}
