/**
 * Reads one ssh_config line the way OpenSSH's readconf.c does (strdelim for the keyword,
 * argv_split for the arguments), keeping the offsets of each part so an edit can replace a
 * value and leave the keyword, separator and trailing comment exactly as the user wrote them.
 * OpenSSH rejects a line with unbalanced quotes whatever its keyword; so do we.
 */

/** OpenSSH's WHITESPACE; trailing form feeds are stripped as well. */
const WHITESPACE = ' \t\r\n';
const TRAILING = ' \t\r\n\f';

export interface Arg {
  /** The argument with quotes and escapes removed, as OpenSSH sees it. */
  readonly value: string;
  readonly start: number;
  readonly end: number;
}

export type ConfigLine =
  | { readonly kind: 'blank' }
  | { readonly kind: 'comment'; readonly indent: string; readonly body: string }
  | {
      readonly kind: 'directive';
      readonly indent: string;
      /** Lower-cased, as OpenSSH matches keywords. */
      readonly keyword: string;
      /** Where the value starts (after keyword, separator and spaces). */
      readonly valueStart: number;
      /** Where the value ends: after the last argument, before any trailing comment or spaces. */
      readonly argsEnd: number;
      readonly args: readonly Arg[];
      /** Where `rest` starts: OpenSSH skips further spaces and '=' before a command value. */
      readonly restStart: number;
      /** The raw value up to the end of the line (trailing spaces stripped): what ProxyCommand runs. */
      readonly rest: string;
    }
  | { readonly kind: 'invalid'; readonly reason: string };

export function parseConfigLine(text: string): ConfigLine {
  let end = text.length;
  while (end > 0 && TRAILING.includes(text[end - 1]!)) end--;
  let i = 0;
  while (i < end && WHITESPACE.includes(text[i]!)) i++;
  if (i >= end) return { kind: 'blank' };
  const indent = text.slice(0, i);
  if (text[i] === '#') return { kind: 'comment', indent, body: text.slice(i, end) };

  const keywordStart = i;
  while (i < end && !(WHITESPACE + '"=').includes(text[i]!)) i++;
  const keyword = text.slice(keywordStart, i).toLowerCase();
  // strdelim: spaces, then at most one '=', then spaces.
  while (i < end && WHITESPACE.includes(text[i]!)) i++;
  if (text[i] === '=') {
    i++;
    while (i < end && WHITESPACE.includes(text[i]!)) i++;
  }
  if (keyword === '') return { kind: 'invalid', reason: 'line does not start with a keyword' };
  if (i >= end) return { kind: 'invalid', reason: `no argument after keyword "${keyword}"` };
  const valueStart = i;

  const split = argvSplit(text, valueStart, end);
  if (split === null) return { kind: 'invalid', reason: 'unbalanced quotes' };
  const argsEnd = split.length > 0 ? split[split.length - 1]!.end : valueStart;
  // ProxyCommand and friends take the raw remainder, skipping any further spaces and '='.
  let restStart = valueStart;
  while (restStart < end && (WHITESPACE + '=').includes(text[restStart]!)) restStart++;
  return { kind: 'directive', indent, keyword, valueStart, argsEnd, args: split, restStart, rest: text.slice(restStart, end) };
}

/**
 * OpenSSH's argv_split(..., terminate_on_comment=1) over text[from, to); null on an open quote.
 * A word without quotes or backslashes is one slice (the common case, and cheap on huge files);
 * only words with them are rebuilt character by character.
 */
function argvSplit(text: string, from: number, to: number): Arg[] | null {
  const args: Arg[] = [];
  let i = from;
  while (i < to) {
    const c = text[i]!;
    if (c === ' ' || c === '\t') {
      i++;
      continue;
    }
    if (c === '#') break;
    const start = i;
    while (i < to && !PLAIN_WORD_END.has(text[i]!)) i++;
    if (i >= to || text[i] === ' ' || text[i] === '\t') {
      args.push({ value: text.slice(start, i), start, end: i });
      continue;
    }
    const word = quotedWord(text, start, to);
    if (word === null) return null;
    args.push({ value: word.value, start, end: word.end });
    i = word.end;
  }
  return args;
}

/** Characters that end the fast path of a word: a separator, or quoting that needs the slow path. */
const PLAIN_WORD_END = new Set([' ', '\t', '"', "'", '\\']);

function quotedWord(text: string, start: number, to: number): { value: string; end: number } | null {
  const parts: string[] = [];
  let quote = '';
  let i = start;
  for (; i < to; i++) {
    const ch = text[i]!;
    if (ch === '\\') {
      const next = text[i + 1];
      if (next === "'" || next === '"' || next === '\\' || (quote === '' && next === ' ')) {
        i++;
        parts.push(next);
      } else {
        parts.push(ch);
      }
    } else if (quote === '' && (ch === ' ' || ch === '\t')) {
      break;
    } else if (quote === '' && (ch === '"' || ch === "'")) {
      quote = ch;
    } else if (quote !== '' && ch === quote) {
      quote = '';
    } else {
      parts.push(ch);
    }
  }
  if (quote !== '') return null;
  return { value: parts.join(''), end: i };
}

/** Quotes a value for a config line when OpenSSH would otherwise split or unescape it. */
export function configQuote(value: string): string {
  // '=' first would be read as the keyword's separator.
  if (value !== '' && !/[\s"'\\#]/.test(value) && !value.startsWith('=')) return value;
  return `"${value.replace(/[\\"]/g, (m) => `\\${m}`)}"`;
}
