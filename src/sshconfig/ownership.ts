/**
 * Does ssm-proxy still own what it wrote? A block or line under an install-host marker may have
 * been edited by hand since (another alias on the Host line, a LocalForward, a comment, a changed
 * value). These checks say what differs, in words, so uninstall-host removes only untouched lines
 * and install-host keeps a marker's checksum true. Pure.
 */
import { printable } from '../printable.js';
import { parseConfigLine } from './config-line.js';
import { lastDirective, type ParsedConfig, type Section } from './locate.js';
import { checksumOf, INSTALLED_KEYWORDS, readMarker, type Marker } from './markers.js';

export interface MarkerAt {
  marker: Marker;
  index: number;
  indent: string;
}

/** The install-host marker on line `index`, if that line is one. */
export function markerAt(config: ParsedConfig, index: number): MarkerAt | undefined {
  const p = config.parsed[index];
  if (p?.kind !== 'comment') return undefined;
  const marker = readMarker(config.lines[index]!.text.slice(p.indent.length));
  return marker ? { marker, index, indent: p.indent } : undefined;
}

/** The lines a created block consists of: its Host line through its last directive. */
export function createdBlockTexts(config: ParsedConfig, section: Section): string[] {
  const texts: string[] = [];
  for (let i = section.header; i <= lastDirective(config, section); i++) texts.push(config.lines[i]!.text);
  return texts;
}

/** How a block install-host created differs from what it wrote; empty when it does not. */
export function createdBlockEdits(config: ParsedConfig, section: Section, alias: string, marker: Marker): string[] {
  const edits: string[] = [];
  if (section.patterns.length !== 1 || section.patterns[0] !== alias) {
    edits.push(`its Host line now reads '${shorten(config.lines[section.header]!.text.trim())}'`);
  }
  const seen = new Set<string>();
  const foreign: number[] = [];
  const last = lastDirective(config, section);
  for (let i = section.header + 1; i <= last; i++) {
    const p = config.parsed[i]!;
    if (p.kind === 'blank') continue;
    if (p.kind === 'directive' && INSTALLED_KEYWORDS.has(p.keyword) && !seen.has(p.keyword)) {
      seen.add(p.keyword);
      continue;
    }
    foreign.push(i);
  }
  if (foreign.length > 0) {
    const first = `line ${foreign[0]! + 1} '${shorten(config.lines[foreign[0]!]!.text.trim())}'`;
    edits.push(foreign.length === 1 ? `${first} was added` : `${first} and ${foreign.length - 1} more were added`);
  }
  if (edits.length === 0 && marker.checksum !== undefined && checksumOf(createdBlockTexts(config, section)) !== marker.checksum) {
    edits.push(`lines ${section.header + 1}–${last + 1} were changed`);
  }
  return edits;
}

/** How the line under an `added`/`replaced` marker differs from what install-host wrote there. */
export function markedLineEdit(config: ParsedConfig, at: MarkerAt): string | undefined {
  const index = at.index + 1;
  const line = config.lines[index];
  const changed = () => `line ${index + 1} '${shorten(line?.text.trim() ?? '')}' was changed`;
  if (line === undefined) return `the line after the marker on line ${at.index + 1} was removed`;
  if (at.marker.checksum !== undefined) return checksumOf([line.text]) === at.marker.checksum ? undefined : changed();
  // An older marker without a checksum: the line must at least still be the option it set.
  const p = config.parsed[index]!;
  if (p.kind !== 'directive') return changed();
  if (at.marker.kind === 'added') return INSTALLED_KEYWORDS.has(p.keyword) ? undefined : changed();
  if (at.marker.kind === 'replaced') {
    const old = parseConfigLine(at.marker.old);
    return old.kind === 'directive' && old.keyword !== p.keyword ? changed() : undefined;
  }
  return undefined;
}

function shorten(text: string): string {
  return printable(text.length > 60 ? `${text.slice(0, 57)}...` : text);
}
