/**
 * Finds things in a parsed config: the Host/Match sections, the block that belongs to an alias,
 * and the place a new block must go so OpenSSH's first-match-wins picks it. Pure: text in,
 * line indexes out.
 */
import { SsmProxyError } from '../errors.js';
import { printable } from '../printable.js';
import { parseConfigLine, type ConfigLine } from './config-line.js';
import type { RawLine } from './lines.js';

export type DirectiveLine = Extract<ConfigLine, { kind: 'directive' }>;

export interface Section {
  readonly kind: 'host' | 'match';
  /** Index of the Host/Match line. */
  readonly header: number;
  /** One past the last line of the section (the next Host/Match line, or the end of the file). */
  readonly end: number;
  /** Host patterns as OpenSSH sees them (quotes removed); empty for Match. */
  readonly patterns: readonly string[];
}

export interface ParsedConfig {
  readonly lines: readonly RawLine[];
  readonly parsed: readonly ConfigLine[];
  readonly sections: readonly Section[];
}

/** Parses every line; a line OpenSSH would reject (unbalanced quotes) stops us before any edit. */
export function parseConfig(lines: readonly RawLine[], fileLabel: string): ParsedConfig {
  const parsed = lines.map((l) => parseConfigLine(l.text));
  const sections: Section[] = [];
  parsed.forEach((p, index) => {
    if (p.kind === 'invalid') {
      throw new SsmProxyError(
        'config',
        `${fileLabel} line ${index + 1}: ${printable(p.reason)}; fix that line (ssh rejects it too) and try again`,
      );
    }
    if (p.kind === 'directive' && (p.keyword === 'host' || p.keyword === 'match')) {
      const previous = sections.pop();
      if (previous) sections.push({ ...previous, end: index });
      sections.push({
        kind: p.keyword,
        header: index,
        end: lines.length,
        patterns: p.keyword === 'host' ? p.args.map((a) => a.value) : [],
      });
    }
  });
  return { lines, parsed, sections };
}

/** OpenSSH's match_pattern: '*' any run, '?' exactly one character, case-sensitive. */
export function matchPattern(text: string, pattern: string): boolean {
  if (!pattern.includes('*') && !pattern.includes('?')) return text === pattern;
  let regex = '^';
  for (const ch of pattern) {
    if (ch === '*') regex += '.*';
    else if (ch === '?') regex += '.';
    else regex += ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`${regex}$`, 's').test(text);
}

/** Does a Host line with these patterns apply to the alias? A matching negated pattern vetoes. */
export function hostPatternsMatch(patterns: readonly string[], alias: string): boolean {
  let matched = false;
  for (const pattern of patterns) {
    if (pattern.startsWith('!')) {
      if (matchPattern(alias, pattern.slice(1))) return false;
    } else if (matchPattern(alias, pattern)) {
      matched = true;
    }
  }
  return matched;
}

/**
 * Could this section apply to the alias? Match criteria (exec, localnetwork, ...) cannot be
 * judged from text, so every Match counts as a possible match: a new block goes before it.
 */
export function mayApply(section: Section, alias: string): boolean {
  return section.kind === 'match' || hostPatternsMatch(section.patterns, alias);
}

/** The first Host section that names the alias literally (not through a wildcard). */
export function findAliasSection(config: ParsedConfig, alias: string): Section | undefined {
  return config.sections.find((s) => s.kind === 'host' && s.patterns.includes(alias) && hostPatternsMatch(s.patterns, alias));
}

/** A section that names only this alias, so rewriting it affects no other host. */
export function isDedicated(section: Section, alias: string): boolean {
  const positive = section.patterns.filter((p) => !p.startsWith('!'));
  return positive.length > 0 && positive.every((p) => p === alias);
}

export function directiveAt(config: ParsedConfig, index: number): DirectiveLine | undefined {
  const p = config.parsed[index];
  return p?.kind === 'directive' ? p : undefined;
}

/** The first line in a section's body with this keyword (lower case). */
export function findInSection(config: ParsedConfig, section: Section, keyword: string): number | undefined {
  for (let i = section.header + 1; i < section.end; i++) {
    if (directiveAt(config, i)?.keyword === keyword) return i;
  }
  return undefined;
}

/** The last directive line of a section (its header when the body has none). */
export function lastDirective(config: ParsedConfig, section: Section): number {
  for (let i = section.end - 1; i > section.header; i--) {
    if (config.parsed[i]!.kind === 'directive') return i;
  }
  return section.header;
}

/**
 * Where a new block for the alias goes: before the first section that may apply to it, and
 * before the unindented comment lines glued to that section's header (they describe it; an
 * indented comment is more likely a commented-out option of the block above). When nothing
 * applies, at the end of the file.
 */
export function insertionPoint(config: ParsedConfig, alias: string): number {
  const first = config.sections.find((s) => mayApply(s, alias));
  if (!first) return config.lines.length;
  let at = first.header;
  for (;;) {
    const above = config.parsed[at - 1];
    if (above?.kind !== 'comment' || above.indent !== '') break;
    at--;
  }
  return at;
}

/**
 * The value OpenSSH would use for a keyword for this alias, looking at the global lines and the
 * Host sections that apply (first one wins). Match sections are skipped: they cannot be judged
 * from text, and ssh -G checks the final result anyway.
 */
export function firstValue(config: ParsedConfig, alias: string, keyword: string): { value: DirectiveLine; index: number } | undefined {
  let active = true;
  for (let i = 0; i < config.parsed.length; i++) {
    const p = config.parsed[i]!;
    if (p.kind !== 'directive') continue;
    if (p.keyword === 'host') active = hostPatternsMatch(p.args.map((a) => a.value), alias);
    else if (p.keyword === 'match') active = false;
    else if (active && p.keyword === keyword) return { value: p, index: i };
  }
  return undefined;
}
