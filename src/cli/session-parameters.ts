import { SsmProxyError } from '../errors.js';

/**
 * `--parameters` as the AWS CLI reads it for StartSession (docs/protocol.md §14.6): JSON
 * (`{"portNumber":["22"]}`) or the CLI's shorthand (`portNumber=22`, `a=b,c` for a list,
 * `a=[b,c]`, quoted values, `\,` for a literal comma, several `key=value` pairs separated by
 * commas). Returns StartSession's map of string → list of strings.
 */
export function parseSessionParameters(text: string): Record<string, string[]> {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) return fromJson(trimmed, text);
  try {
    return new Shorthand(text).parse();
  } catch (error) {
    if (error instanceof ShorthandError) {
      throw new SsmProxyError('usage', `invalid --parameters '${text}': ${error.message} (use key=value,key2=value2 or JSON such as {"portNumber":["22"]})`);
    }
    throw error;
  }
}

function fromJson(json: string, original: string): Record<string, string[]> {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    throw new SsmProxyError('usage', `invalid --parameters '${original}': not valid JSON (${(error as Error).message})`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new SsmProxyError('usage', `invalid --parameters '${original}': expected a JSON object of lists of strings`);
  }
  const parameters: Record<string, string[]> = {};
  for (const [key, list] of Object.entries(value)) {
    if (!Array.isArray(list) || !list.every((item) => typeof item === 'string')) {
      throw new SsmProxyError('usage', `invalid --parameters '${original}': the value of ${key} must be a list of strings, e.g. {"${key}":["value"]}`);
    }
    parameters[key] = list;
  }
  return parameters;
}

class ShorthandError extends Error {}

const KEY_CHAR = /[A-Za-z0-9\-_.#/:]/;
/** awscli/shorthand.py's character classes: what may start a value, and follow in a first or later list value. */
const START_CHAR = /[!#-&(-+\--<>-Z\\-z|-\uffff]/;
const FIRST_FOLLOW_CHAR = /[\s!#-&(-+\--\\^-|~-\uffff]/;
const SECOND_FOLLOW_CHAR = /[\s!#-&(-+\--<>-\uffff]/;

type Value = string | Value[];

/** A recursive-descent reading of the AWS CLI shorthand grammar (keyval *("," keyval)). */
class Shorthand {
  private index = 0;

  constructor(private readonly input: string) {}

  parse(): Record<string, string[]> {
    const parameters: Record<string, string[]> = {};
    for (;;) {
      const key = this.key();
      if (!key) throw this.error('a parameter name');
      if (key in parameters) throw new ShorthandError(`${key} is given twice`);
      this.expect('=');
      parameters[key] = asStringList(key, this.values());
      this.skipSpace();
      if (this.atEnd()) return parameters;
      this.expect(',');
    }
  }

  private key(): string {
    this.skipSpace();
    const start = this.index;
    while (!this.atEnd() && KEY_CHAR.test(this.current())) this.index++;
    return this.input.slice(start, this.index);
  }

  private values(): Value {
    this.skipSpace();
    if (this.atEnd()) return '';
    if (this.current() === '[') return this.explicitList();
    if (this.current() === '{') throw new ShorthandError('a nested {…} value is not a list of strings');
    return this.csvValue();
  }

  /** `a` → 'a'; `a,b,c` → ['a','b','c'], stopping before a `,key=` that starts the next pair. */
  private csvValue(): Value {
    const first = this.firstValue();
    this.skipSpace();
    if (this.atEnd() || this.current() !== ',') return first;
    const list: string[] = [first];
    this.expect(',');
    for (;;) {
      try {
        const value = this.secondValue();
        this.skipSpace();
        if (this.atEnd()) {
          list.push(value);
          break;
        }
        this.expect(',');
        list.push(value);
      } catch (error) {
        if (!(error instanceof ShorthandError) || this.atEnd()) throw error;
        // Back to the comma before this word: it starts the next key=value pair.
        while (this.index > 0 && this.input[this.index] !== ',') this.index--;
        break;
      }
    }
    return list.length === 1 ? first : list;
  }

  private explicitList(): Value[] {
    this.expect('[');
    const list: Value[] = [];
    this.skipSpace();
    while (this.current() !== ']') {
      if (this.atEnd()) throw this.error("']'");
      list.push(this.current() === '[' ? this.explicitList() : this.firstValue());
      this.skipSpace();
      if (this.current() !== ']') this.expect(',');
    }
    this.expect(']');
    return list;
  }

  private firstValue(): string {
    const quoted = this.quoted();
    if (quoted !== undefined) return quoted;
    return this.word(FIRST_FOLLOW_CHAR, false);
  }

  private secondValue(): string {
    const quoted = this.quoted();
    if (quoted !== undefined) return quoted;
    return this.word(SECOND_FOLLOW_CHAR, true);
  }

  private word(follow: RegExp, required: boolean): string {
    const start = this.index;
    let text = '';
    for (let first = true; !this.atEnd(); first = false) {
      const char = this.current();
      if (char === '\\' && this.input[this.index + 1] === ',') {
        text += ',';
        this.index += 2;
        continue;
      }
      if (!(first ? START_CHAR : follow).test(char)) break;
      text += char;
      this.index++;
    }
    if (required && this.index === start) throw this.error('a value');
    return text.trimEnd();
  }

  private quoted(): string | undefined {
    const quote = this.current();
    if (quote !== '"' && quote !== "'") return undefined;
    let text = '';
    for (this.index++; ; this.index++) {
      if (this.atEnd()) throw new ShorthandError(`unterminated ${quote === '"' ? 'double' : 'single'}-quoted value`);
      const char = this.current();
      if (char === '\\' && (this.input[this.index + 1] === quote || this.input[this.index + 1] === '\\')) {
        text += this.input[++this.index];
        continue;
      }
      if (char === quote) {
        this.index++;
        return text;
      }
      text += char;
    }
  }

  private expect(char: string): void {
    this.skipSpace();
    if (this.current() !== char) throw this.error(`'${char}'`);
    this.index++;
    this.skipSpace();
  }

  private error(expected: string): ShorthandError {
    const found = this.atEnd() ? 'the end' : `'${this.current()}' at position ${this.index + 1}`;
    return new ShorthandError(`expected ${expected}, found ${found}`);
  }

  private skipSpace(): void {
    while (!this.atEnd() && /\s/.test(this.current())) this.index++;
  }

  private current(): string {
    return this.input[this.index] ?? '';
  }

  private atEnd(): boolean {
    return this.index >= this.input.length;
  }
}

function asStringList(key: string, value: Value): string[] {
  const list = typeof value === 'string' ? [value] : value;
  if (!list.every((item): item is string => typeof item === 'string')) {
    throw new ShorthandError(`the value of ${key} must be a list of strings, not nested lists`);
  }
  return list;
}
