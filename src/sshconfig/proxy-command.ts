/**
 * The ProxyCommand text: building the one we write, and reading the ones people already have
 * (`aws ssm start-session ...`, often wrapped in `sh -c "..."`, or an earlier ssm-proxy line) so
 * a migration keeps their target, region, profile and port.
 */
import path from 'node:path';
import { windowsProxyCommand } from '../platform/windows-command-line.js';

export interface ProxySettings {
  target?: string;
  profile?: string;
  region?: string;
  /** A literal remote port, when the old command hard-coded one instead of %p. */
  port?: number;
}

export type ProxyCommandInfo =
  | ({ kind: 'ssm-proxy' } & ProxySettings)
  | ({ kind: 'aws-ssm' } & ProxySettings)
  | { kind: 'other' };

/**
 * The ProxyCommand install-host writes: no `sh -c`, ssh already runs it through the shell.
 * Windows OpenSSH has no shell there: its quoting is windowsProxyCommand's.
 */
export function buildProxyCommand(self: readonly string[], settings: { target: string; profile?: string; region?: string }, platform: NodeJS.Platform = process.platform): string {
  if (platform === 'win32') return windowsProxyCommand(self, settings);
  const words = [...self.map(shellWord), 'connect', shellWord(settings.target), '%p'];
  if (settings.profile !== undefined) words.push('--profile', shellWord(settings.profile));
  if (settings.region !== undefined) words.push('--region', shellWord(settings.region));
  return words.join(' ');
}

/**
 * One word for the shell ssh runs the ProxyCommand with. ssh expands %-tokens first, so a
 * literal '%' is doubled; anything beyond plain path characters goes in double quotes, which
 * OpenSSH's own quote check also accepts.
 */
export function shellWord(word: string): string {
  const escaped = word.replace(/%/g, '%%');
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(escaped)) return escaped;
  return `"${escaped.replace(/[\\"$`]/g, (m) => `\\${m}`)}"`;
}

/** Splits a command line roughly as sh would: quotes, backslashes, comments. No expansions. */
export function shellSplit(command: string): string[] {
  const words: string[] = [];
  let i = 0;
  while (i < command.length) {
    const c = command[i]!;
    if (c === ' ' || c === '\t' || c === '\n') {
      i++;
      continue;
    }
    if (c === '#') break;
    let word = '';
    for (; i < command.length; i++) {
      const ch = command[i]!;
      if (ch === ' ' || ch === '\t' || ch === '\n') break;
      if (ch === '\\') {
        i++;
        if (i < command.length) word += command[i];
      } else if (ch === "'") {
        const close = command.indexOf("'", i + 1);
        const stop = close === -1 ? command.length : close;
        word += command.slice(i + 1, stop);
        i = stop;
      } else if (ch === '"') {
        for (i++; i < command.length && command[i] !== '"'; i++) {
          if (command[i] === '\\' && '\\"$`\n'.includes(command[i + 1] ?? '')) i++;
          word += command[i] ?? '';
        }
      } else {
        word += ch;
      }
    }
    words.push(word);
  }
  return words;
}

const SHELLS = new Set(['sh', 'bash', 'zsh', 'dash', 'ksh']);
const ASSIGNMENT = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s;

/** Reads a ProxyCommand value (the raw text after the keyword). */
export function parseProxyCommand(command: string, self: readonly string[] = []): ProxyCommandInfo {
  return classify(shellSplit(command), new Map(), self, 0);
}

function classify(words: string[], env: Map<string, string>, self: readonly string[], depth: number): ProxyCommandInfo {
  let i = 0;
  // Peel `exec`, `env`, and VAR=value prefixes, remembering the variables.
  for (;;) {
    const w = words[i];
    if (w === undefined) return { kind: 'other' };
    const assignment = ASSIGNMENT.exec(w);
    if (assignment) env.set(assignment[1]!, assignment[2]!);
    else if (w !== 'exec' && w !== 'env' && w !== '/usr/bin/env') break;
    i++;
  }
  const program = path.basename(words[i]!);
  if (SHELLS.has(program) && depth < 3) {
    const flag = words.findIndex((w, k) => k > i && /^-[a-z]*c[a-z]*$/.test(w));
    const script = flag === -1 ? undefined : words[flag + 1];
    return script === undefined ? { kind: 'other' } : classify(shellSplit(script), env, self, depth + 1);
  }
  if (/^aws(\.exe)?$/i.test(program) && words[i + 1] === 'ssm' && words[i + 2] === 'start-session') {
    return { kind: 'aws-ssm', ...readAwsFlags(words.slice(i + 3), env) };
  }
  const connect = words.indexOf('connect', i + 1);
  if (connect !== -1 && looksLikeSsmProxy(words.slice(i, connect), self)) {
    return { kind: 'ssm-proxy', ...readConnectArgs(words.slice(connect + 1)) };
  }
  return { kind: 'other' };
}

/** The words before `connect` are ssm-proxy: its binary, a node + script, or this very program. */
function looksLikeSsmProxy(prefix: readonly string[], self: readonly string[]): boolean {
  if (self.length > 0 && prefix.length === self.length && prefix.every((w, k) => w === self[k])) return true;
  return prefix.some((w) => /ssm-proxy/i.test(path.basename(w)) || /ssm-proxy[\\/]+lib[\\/]+cli[\\/]+main\.js$/.test(w));
}

function flagValues(words: readonly string[]): { flags: Map<string, string>; positionals: string[] } {
  const flags = new Map<string, string>();
  const positionals: string[] = [];
  for (let k = 0; k < words.length; k++) {
    const w = words[k]!;
    if (w.startsWith('--')) {
      const eq = w.indexOf('=');
      if (eq !== -1) flags.set(w.slice(2, eq), w.slice(eq + 1));
      else if (words[k + 1] !== undefined && !words[k + 1]!.startsWith('--')) flags.set(w.slice(2), words[++k]!);
      else flags.set(w.slice(2), '');
    } else {
      positionals.push(w);
    }
  }
  return { flags, positionals };
}

function readAwsFlags(words: readonly string[], env: Map<string, string>): ProxySettings {
  const { flags } = flagValues(words);
  const settings: ProxySettings = {};
  const target = flags.get('target');
  const profile = flags.get('profile') || env.get('AWS_PROFILE');
  const region = flags.get('region') || env.get('AWS_REGION') || env.get('AWS_DEFAULT_REGION');
  if (target) settings.target = target;
  if (profile) settings.profile = profile;
  if (region) settings.region = region;
  // portNumber=22, portNumber=%p, {"portNumber":["22"]}: only a literal number is worth keeping.
  const port = /portNumber\W*(\d+)/.exec(flags.get('parameters') ?? '');
  if (port) settings.port = Number(port[1]);
  return settings;
}

function readConnectArgs(words: readonly string[]): ProxySettings {
  const { flags, positionals } = flagValues(words);
  const settings: ProxySettings = {};
  if (positionals[0]) settings.target = positionals[0];
  if (positionals[1] && /^\d+$/.test(positionals[1])) settings.port = Number(positionals[1]);
  if (flags.get('profile')) settings.profile = flags.get('profile')!;
  if (flags.get('region')) settings.region = flags.get('region')!;
  return settings;
}
