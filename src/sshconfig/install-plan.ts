/**
 * Decides what install-host changes in a config, as line edits: rewrite the alias's own block in
 * place, or create a block where first-match-wins will pick it. Pure: no file system, no ssh.
 */
import { SsmProxyError } from '../errors.js';
import { printable } from '../printable.js';
import { isValidTargetId } from '../target-id.js';
import { configQuote, parseConfigLine } from './config-line.js';
import { dominantEol, newLine, type RawLine } from './lines.js';
import {
  directiveAt,
  findAliasSection,
  findInSection,
  firstValue,
  insertionPoint,
  isDedicated,
  lastDirective,
  type ParsedConfig,
  type Section,
} from './locate.js';
import { addedMarker, checksumOf, createdMarker, replacedMarker } from './markers.js';
import { createdBlockEdits, createdBlockTexts, markerAt } from './ownership.js';
import { buildProxyCommand, parseProxyCommand, type ProxySettings } from './proxy-command.js';
import { resolveProxyTarget } from './proxy-target.js';
import { applyEdits, type LineEdit } from './splice.js';
import { checkAlias, checkConfigText, checkIdentityFile, checkPort, checkProfile, checkRegion, checkTarget, checkUser } from './validate.js';

export interface InstallRequest {
  alias: string;
  target?: string;
  profile?: string;
  region?: string;
  user?: string;
  port?: number;
  identityFile?: string;
  /** argv words that run this ssm-proxy (see self-path.ts). */
  self: readonly string[];
  /** The fast block; undefined leaves those options as they are. */
  fast?: FastOptions;
}

/**
 * Options that make repeat connections instant and text transfers smaller: OpenSSH connection
 * sharing (one SSM session carries every ssh to the host while the master lives) and
 * compression. Written only where the user has not set the option for this host; ssm-proxy's own
 * earlier lines are updated, or removed when opted out.
 */
export interface FastOptions {
  /** ControlMaster auto + this ControlPath and ControlPersist; null: none (opted out). */
  sharing: { controlPath: string; controlPersist: string } | null;
  compression: boolean;
}

/** What `ssh -G <alias>` must print once the plan is written. */
export interface Expectation {
  hostname: string;
  proxycommand: string;
  user?: string;
  port?: number;
}

export interface InstallPlan {
  lines: RawLine[];
  /** 'created' a new block, 'updated' the alias's block, or 'unchanged'. */
  action: 'created' | 'updated' | 'unchanged';
  /** Where the old settings came from when something was migrated (a line number, 1-based). */
  migratedFrom?: { line: number; kind: 'aws-ssm' | 'ssm-proxy' };
  settings: { target: string; profile?: string; region?: string; port?: number };
  expect: Expectation;
}

const DEFAULT_INDENT = '    ';

export function planInstall(config: ParsedConfig, request: InstallRequest): InstallPlan {
  const { alias } = request;
  checkAlias(alias);
  if (request.identityFile !== undefined) checkIdentityFile(request.identityFile);
  for (const word of request.self) checkConfigText('the path of ssm-proxy', word, 'where it runs from, or SSM_PROXY_SELF');
  const own = findAliasSection(config, alias);
  const old = previousProxy(config, alias, own, request.self);
  const settings = resolveSettings(config, request, old?.info ?? {});
  const proxycommand = buildProxyCommand(request.self, settings);
  const eol = dominantEol(config.lines);

  const wanted: Wanted[] = [{ keyword: 'hostname', name: 'HostName', value: settings.target }];
  if (request.user !== undefined) wanted.push({ keyword: 'user', name: 'User', value: request.user });
  if (settings.port !== undefined) wanted.push({ keyword: 'port', name: 'Port', value: String(settings.port) });
  if (request.identityFile !== undefined) wanted.push({ keyword: 'identityfile', name: 'IdentityFile', value: request.identityFile });
  wanted.push({ keyword: 'proxycommand', name: 'ProxyCommand', value: proxycommand, raw: true });
  if (request.fast) wanted.push(...fastOptions(request.fast));

  const expect: Expectation = { hostname: settings.target.toLowerCase(), proxycommand };
  if (request.user !== undefined) expect.user = request.user;
  if (settings.port !== undefined) expect.port = settings.port;

  let edits: LineEdit[];
  let action: InstallPlan['action'];
  if (own && isDedicated(own, alias)) {
    edits = rewriteBlock(config, own, alias, wanted, eol);
    action = edits.length > 0 ? 'updated' : 'unchanged';
  } else {
    // No block, or a block shared with other hosts: a dedicated block placed before it wins for
    // the four settings we own, and the shared block still supplies everything else.
    edits = [createBlock(config, alias, wanted, eol)];
    action = 'created';
  }
  const plan: InstallPlan = { lines: applyEdits(config.lines, edits, eol), action, settings, expect };
  if (old) plan.migratedFrom = { line: old.index + 1, kind: old.info.kind };
  return plan;
}

interface Wanted {
  keyword: string;
  name: string;
  value: string;
  /** ProxyCommand: compared and written as raw text, not as a quoted argument. */
  raw?: boolean;
  /** A fast-block option: never written over a value the user set for this host. */
  optional?: boolean;
  /** Opted out: ssm-proxy's own line for it goes (the user's stays). */
  remove?: boolean;
}

function fastOptions(fast: FastOptions): Wanted[] {
  const sharing = fast.sharing;
  return [
    { keyword: 'controlmaster', name: 'ControlMaster', value: 'auto', optional: true, remove: sharing === null },
    { keyword: 'controlpath', name: 'ControlPath', value: sharing?.controlPath ?? '', optional: true, remove: sharing === null },
    { keyword: 'controlpersist', name: 'ControlPersist', value: sharing?.controlPersist ?? '', optional: true, remove: sharing === null },
    { keyword: 'compression', name: 'Compression', value: 'yes', optional: true, remove: !fast.compression },
  ];
}

/** Has the user set this option for the alias outside its own block (global, Host *, …)? */
function setElsewhere(config: ParsedConfig, alias: string, keyword: string): boolean {
  return firstValue(config, alias, keyword) !== undefined;
}

/** The ProxyCommand ssh uses for the alias today: its own block's, else the first that applies. */
function previousProxy(
  config: ParsedConfig,
  alias: string,
  own: Section | undefined,
  self: readonly string[],
): { index: number; info: ProxySettings & { kind: 'aws-ssm' | 'ssm-proxy' } } | undefined {
  const candidates: number[] = [];
  const inOwn = own ? findInSection(config, own, 'proxycommand') : undefined;
  if (inOwn !== undefined) candidates.push(inOwn);
  const effective = firstValue(config, alias, 'proxycommand');
  if (effective) candidates.push(effective.index);
  for (const index of candidates) {
    const info = parseProxyCommand(directiveAt(config, index)!.rest, self);
    if (info.kind !== 'other') return { index, info };
  }
  return undefined;
}

function resolveSettings(config: ParsedConfig, request: InstallRequest, old: ProxySettings) {
  const { alias } = request;
  const where = (flag: string, value: unknown) => (value === undefined ? 'from the old ProxyCommand' : `from --${flag}`);

  let target = request.target ?? resolveTarget(config, alias, old.target);
  if (target === undefined) {
    const hostName = firstValue(config, alias, 'hostname')?.value.args[0]?.value;
    if (hostName !== undefined && isValidTargetId(hostName)) target = hostName;
    else if (isValidTargetId(alias)) target = alias;
  }
  if (target === undefined) {
    throw new SsmProxyError('usage', `no target known for '${alias}'; pass --target with its instance id (i-…) or managed-node id (mi-…)`);
  }
  checkTarget(target, where('target', request.target));

  const settings: InstallPlan['settings'] = { target };
  const profile = request.profile ?? old.profile;
  if (profile !== undefined) {
    checkProfile(profile, where('profile', request.profile));
    settings.profile = profile;
  }
  const region = request.region ?? old.region;
  if (region !== undefined) {
    checkRegion(region, where('region', request.region));
    settings.region = region;
  }
  if (request.port !== undefined) {
    checkPort(request.port, 'from --port');
    settings.port = request.port;
  } else if (old.port !== undefined && old.port !== 22) {
    // The old command hard-coded a remote port; ours passes %p, so Port must carry it.
    checkPort(old.port, 'from the old ProxyCommand');
    settings.port = old.port;
  }
  if (request.user !== undefined) checkUser(request.user);
  return settings;
}

/** The old command's target with ssh's %h / %n tokens resolved from this config. */
function resolveTarget(config: ParsedConfig, alias: string, target: string | undefined): string | undefined {
  return resolveProxyTarget(target, { alias, hostName: firstValue(config, alias, 'hostname')?.value.args[0]?.value });
}

function blockIndent(config: ParsedConfig, section: Section | undefined): string {
  const sections = section ? [section] : config.sections;
  for (const s of sections) {
    for (let i = s.header + 1; i < s.end; i++) {
      const d = directiveAt(config, i);
      if (d && d.indent !== '') return d.indent;
    }
  }
  return DEFAULT_INDENT;
}

function directiveText(indent: string, w: Wanted): string {
  return checkedLine(`${indent}${w.name} ${w.raw ? w.value : configQuote(w.value)}`, w);
}

/**
 * The last check on what is written: read the line back as OpenSSH would and require exactly
 * the keyword and value we meant (a value starting with '=', a stray quote or a control
 * character would otherwise mean something else, or something more).
 */
function checkedLine(text: string, w: Wanted): string {
  checkConfigText(w.name, w.value, 'as it would be written');
  const p = parseConfigLine(text);
  const ok =
    p.kind === 'directive' &&
    p.keyword === w.keyword &&
    (w.raw ? p.rest === w.value : p.args.length === 1 && p.args[0]!.value === w.value);
  if (!ok) throw new SsmProxyError('usage', `${w.name} '${printable(w.value)}' cannot be written so that ssh reads it back unchanged; use another value`);
  return text;
}

/** Rewrites the alias's own block: change the lines that differ, add the missing ones. */
function rewriteBlock(config: ParsedConfig, section: Section, alias: string, wanted: readonly Wanted[], eol: '\n' | '\r\n'): LineEdit[] {
  const jump = findInSection(config, section, 'proxyjump');
  if (jump !== undefined) {
    throw new SsmProxyError(
      'config',
      `line ${jump + 1}: this Host block uses ProxyJump, which overrides or conflicts with a ProxyCommand; remove that line and try again`,
    );
  }
  // A block we created carries one marker for the whole block; no per-line markers needed.
  const head = markerAt(config, section.header - 1);
  const created = head?.marker.kind === 'created';
  const pristine = created && head !== undefined && createdBlockEdits(config, section, alias, head.marker).length === 0;
  const indent = blockIndent(config, section);
  const edits: LineEdit[] = [];
  const added: RawLine[] = [];
  const replacedText = new Map<number, string>();
  const removed = new Set<number>();
  for (const w of wanted) {
    const index = findInSection(config, section, w.keyword);
    if (index === undefined) {
      if (w.remove || (w.optional && setElsewhere(config, alias, w.keyword))) continue;
      const text = directiveText(indent, w);
      if (!created) added.push(newLine(`${indent}${addedMarker(checksumOf([text]))}`, eol));
      added.push(newLine(text, eol));
      continue;
    }
    const line = config.lines[index]!;
    const d = directiveAt(config, index)!;
    if (w.optional) {
      // A fast option is ssm-proxy's only when it wrote it: in its untouched block, or under its marker.
      const marker = markerAt(config, index - 1)?.marker.kind;
      const ours = created ? pristine : marker === 'added' || marker === 'replaced';
      if (!ours) continue;
      if (w.remove) {
        const from = created ? index : index - 1;
        edits.push({ at: from, remove: index + 1 - from, insert: [] });
        removed.add(index);
        continue;
      }
    }
    const same = w.raw ? d.rest === w.value : d.args.length === 1 && d.args[0]!.value === w.value;
    if (same) continue;
    // Keep the user's keyword spelling, separator and (for plain options) trailing comment.
    const text = checkedLine(
      w.raw ? line.text.slice(0, d.restStart) + w.value : line.text.slice(0, d.valueStart) + configQuote(w.value) + line.text.slice(d.argsEnd),
      w,
    );
    replacedText.set(index, text);
    const replacement: RawLine = line.eol === '' ? { bytes: Buffer.from(text, 'utf8'), text, eol: '' } : newLine(text, line.eol);
    const insert: RawLine[] = [];
    if (!created) {
      const sum = checksumOf([text]);
      const before = markerAt(config, index - 1);
      if (before?.marker.kind === 'replaced' || before?.marker.kind === 'added') {
        // Ours already: it still says what was there first; only its checksum follows the new line.
        const refreshed = before.marker.kind === 'replaced' ? replacedMarker(sum, before.marker.old) : addedMarker(sum);
        edits.push({ at: index - 1, remove: 1, insert: [newLine(`${before.indent}${refreshed}`, config.lines[index - 1]!.eol || eol)] });
      } else {
        insert.push(newLine(`${d.indent}${replacedMarker(sum, line.text.slice(d.indent.length))}`, line.eol || eol));
      }
    }
    insert.push(replacement);
    edits.push({ at: index, remove: 1, insert });
  }
  if (added.length > 0) edits.push({ at: lastDirective(config, section) + 1, remove: 0, insert: added });
  if (pristine && head && edits.length > 0) {
    // Still exactly what install-host wrote: the block's checksum follows the edit. A block the
    // user has edited keeps its old checksum, so uninstall-host still sees the hand edits.
    const texts = createdBlockTexts(config, section)
      .map((t, k) => (removed.has(section.header + k) ? '' : (replacedText.get(section.header + k) ?? t)));
    texts.push(...added.map((l) => l.text));
    edits.push({ at: head.index, remove: 1, insert: [newLine(`${head.indent}${createdMarker(checksumOf(texts))}`, config.lines[head.index]!.eol || eol)] });
  }
  return edits;
}

/** A new block, before the first section that may apply to the alias (or at the end). */
function createBlock(config: ParsedConfig, alias: string, wanted: readonly Wanted[], eol: '\n' | '\r\n'): LineEdit {
  const indent = blockIndent(config, undefined);
  const written = wanted.filter((w) => !w.remove && !(w.optional && setElsewhere(config, alias, w.keyword)));
  const body = [`Host ${alias}`, ...written.map((w) => directiveText(indent, w))];
  const block = [createdMarker(checksumOf(body)), ...body];
  const at = insertionPoint(config, alias);
  const lines = config.lines;
  let text: string[];
  // One empty line separates the block from its neighbour; uninstall takes exactly that line back.
  if (at < lines.length) text = [...block, ''];
  else if (lines.length > 0) text = ['', ...block];
  else text = block;
  return { at, remove: 0, insert: text.map((t) => newLine(t, eol)) };
}
