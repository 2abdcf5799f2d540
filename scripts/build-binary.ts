/**
 * Builds the single executables, offline once `npm ci` has run:
 *
 *   npm run build:binary    dist/ssm-proxy for this machine (linux-x64, linux-arm64, darwin-*)
 *   npm run build:binaries  dist/ssm-proxy-{linux-x64,linux-arm64,darwin-x64,darwin-arm64},
 *                           dist/ssm-proxy-win-x64.exe, dist/SHA256SUMS
 *   either with `-- --out-dir DIR` to build into another folder (the tests do).
 *
 *   1. esbuild bundles src/cli/main.ts and everything it imports into one CommonJS file
 *      (pkg cannot follow yargs 18's ESM files from unbundled output). Dynamic `import()`s stay
 *      lazy: esbuild turns them into deferred module initialisers, so `connect` and `--version`
 *      evaluate only what they use.
 *   2. The Node binaries come from .node-binaries/ (scripts/node-binaries.ts: npm packages pinned
 *      by sha512, fetched by npm's prepare step). Each is made ready for its platform (symbols
 *      stripped from the Linux ones, the stale Authenticode signature cut from the Windows one)
 *      and put into pkg's SEA cache, which lives inside the project (`.pkg-cache/`, gitignored,
 *      used as pkg's HOME), so pkg finds it there and never downloads anything.
 *   3. pkg's simple SEA mode (scripts/pkg-sea-run.ts) packs the bundle for the targets of
 *      pkg.config.json, in one run, under this machine's Node of the pinned version: pkg's SEA mode
 *      needs Node >= 22, and the blob is made by the Node of the exact version that reads it. The
 *      blob for the other platforms carries no code cache and no startup snapshot (pkg's simple SEA
 *      defaults), so one blob serves them all. This machine's own binary from `build:binary` gets
 *      a blob of its own with a V8 startup snapshot (scripts/snapshot-entry.ts; `--no-snapshot`
 *      leaves it out, `build:binaries -- --snapshot` adds it there); `--code-cache` instead adds a
 *      code cache. Either starts faster and is not byte-reproducible.
 *   4. Mach-O results get a fresh ad-hoc signature (scripts/macho-adhoc-sign.ts), the PE its
 *      checksum; each is copied into place (placeBinary). LICENSES has Node's licence and those of
 *      every package in the bundle; the host's binary must answer --version, quietly.
 *
 * Nothing here reads the real home directory or the network.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { build, type Metafile, type Plugin } from 'esbuild';
import { adhocSign } from './macho-adhoc-sign.js';
import { nodeBinaryPath, nodeLicencePath, readPins, TARGETS, type NodeBinaryPins, type Target } from './node-binaries.js';
import { removeAuthenticode, withPeChecksum } from './pe-file.js';
import { deferBuiltins, deferStringWidthSegmenter, readBuiltinShapes } from './snapshot-plugins.js';

const root = path.resolve(import.meta.dirname, '..');
const fromRoot = (...parts: string[]): string => path.join(root, ...parts);

const ENTRY = fromRoot('src/cli/main.ts');
const SNAPSHOT_ENTRY = fromRoot('scripts/snapshot-entry.ts');
const PKG_CONFIG = fromRoot('pkg.config.json');
/** pkg keeps its caches under $HOME/.pkg-cache; we hand it this folder as HOME. */
const PKG_HOME = fromRoot('.pkg-cache');

interface PkgConfig {
  name: string;
  pkg: { targets: string[]; outputPath: string; sea?: boolean };
}

function fail(message: string): never {
  process.stderr.write(`build-binary: ${message}\n`);
  process.exit(1);
}

function readJson<T>(file: string): T {
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}

function step(label: string): () => void {
  const started = performance.now();
  process.stdout.write(`build-binary: ${label} ...`);
  return () => process.stdout.write(` ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
}

/** pkg names macOS `macos`; everything else here says darwin, as Node does. */
const pkgPlatform = (target: Target): string => target.replace(/^darwin-/, 'macos-');
const isWindows = (target: Target): boolean => target.startsWith('win-');
const isMac = (target: Target): boolean => target.startsWith('darwin-');

/** pkg.config.json's targets: every platform, one full Node version, the pinned one. */
function readTargets(config: PkgConfig, pins: NodeBinaryPins): Target[] {
  if (config.pkg.sea !== true) fail('pkg.config.json must set "sea": true (the only mode that builds offline)');
  const targets: Target[] = [];
  for (const spec of config.pkg.targets) {
    const match = /^node(\d+\.\d+\.\d+)-(linux|macos|win)-(x64|arm64)$/.exec(spec);
    if (!match) fail(`pkg.config.json target '${spec}' must look like node${pins.version}-linux-x64 (full version)`);
    if (match[1] !== pins.version) fail(`pkg.config.json targets Node ${match[1]} but scripts/node-binaries.json pins ${pins.version}; use one version in both`);
    const target = `${match[2] === 'macos' ? 'darwin' : match[2]}-${match[3]}` as Target;
    if (!TARGETS.includes(target)) fail(`pkg.config.json target '${spec}' has no pinned Node binary`);
    targets.push(target);
  }
  return targets;
}

function hostTarget(): Target {
  const target = `${process.platform === 'win32' ? 'win' : process.platform}-${process.arch}` as Target;
  if (!TARGETS.includes(target)) fail(`no binary is built for this machine (${process.platform}-${process.arch})`);
  return target;
}

/**
 * ws loads two optional native helpers inside try/catch and falls back to JavaScript (Node 22
 * also has buffer.isUtf8). Each becomes a module that throws "not found" when required, so the
 * bundle names no package that pkg would look for and warn about.
 */
const leaveOutWsNativeHelpers: Plugin = {
  name: 'leave-out-ws-native-helpers',
  setup(b) {
    b.onResolve({ filter: /^(bufferutil|utf-8-validate)$/ }, (args) => ({ path: args.path, namespace: 'left-out' }));
    b.onLoad({ filter: /.*/, namespace: 'left-out' }, (args) => ({
      contents: `throw Object.assign(new Error("Cannot find module '${args.path}'"), { code: 'MODULE_NOT_FOUND' });`,
      loader: 'js',
    }));
  },
};

/**
 * main.ts ends with a top-level `await main(...)`, which CommonJS cannot express. In the plain
 * bundle the promise is started without the await; a rejection still ends the process with code 1
 * and the error on stderr, as an unsettled top-level await rejection does. In the snapshot bundle
 * the call goes: scripts/snapshot-entry.ts calls main() at each start instead.
 */
function mainCall(mode: 'run' | 'snapshot'): Plugin {
  return {
    name: 'main-call',
    setup(b) {
      b.onLoad({ filter: /[\\/]src[\\/]cli[\\/]main\.ts$/ }, (args) => {
        const source = readFileSync(args.path, 'utf8');
        const pattern = /^await (main\(.*\));[ \t]*$/m;
        if (!pattern.test(source)) fail(`${path.relative(root, args.path)} no longer ends with 'await main(...);': update scripts/build-binary.ts`);
        return { contents: source.replace(pattern, mode === 'run' ? 'void $1;' : ''), loader: 'ts' };
      });
    },
  };
}

/** A plain bundle starts at src/cli/main.ts; a snapshot bundle at scripts/snapshot-entry.ts. */
interface BundleMode {
  snapshot: boolean;
  /** The pinned Node that builds the snapshot (it supplies the deferred built-ins' data). */
  node: string;
}

async function bundle(file: string, mode: BundleMode): Promise<Metafile> {
  rmSync(path.dirname(file), { recursive: true, force: true });
  const snapshotPlugins = mode.snapshot ? [deferBuiltins(readBuiltinShapes(mode.node)), deferStringWidthSegmenter] : [];
  const result = await build({
    entryPoints: [mode.snapshot ? SNAPSHOT_ENTRY : ENTRY],
    outfile: file,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node22',
    // A CommonJS file has no import.meta: give it the real values of the bundle file.
    define: {
      'import.meta.url': '__ssmProxyImportMetaUrl',
      'import.meta.dirname': '__dirname',
      'import.meta.filename': '__filename',
    },
    banner: { js: 'const __ssmProxyImportMetaUrl = require("node:url").pathToFileURL(__filename).href;' },
    minifySyntax: true,
    minifyWhitespace: true,
    legalComments: 'none',
    metafile: true,
    logLevel: 'warning',
    plugins: [leaveOutWsNativeHelpers, mainCall(mode.snapshot ? 'snapshot' : 'run'), ...snapshotPlugins],
  });
  if (result.warnings.length > 0) fail(`esbuild warned ${result.warnings.length} time(s); see above`);
  return result.metafile;
}

function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** Bumped when prepareNode changes what it makes, so cached copies are made again. */
const PREPARATION = 'v2';

/** Makes the pinned Node binary of a target ready to carry the blob, into `destination`. */
function prepareNode(target: Target, source: string, destination: string): void {
  if (isWindows(target)) {
    writeFileSync(destination, removeAuthenticode(readFileSync(source)));
    return;
  }
  copyFileSync(source, destination);
  chmodSync(destination, 0o755);
  if (isMac(target)) return; // the signature is replaced after pkg; Apple's symbols stay (no Mach-O strip here)
  // The Linux binaries carry their symbol table and debug sections (17 MB that a user never
  // needs). Each architecture needs its own binutils' strip: the machine's own `strip` for its
  // architecture, Debian's cross binutils for the other.
  const native = process.platform === 'linux' && target === `linux-${process.arch}`;
  const cross = target === 'linux-arm64' ? 'aarch64-linux-gnu' : 'x86_64-linux-gnu';
  const strip = native ? 'strip' : `${cross}-strip`;
  const result = spawnSync(strip, ['--strip-all', destination], { encoding: 'utf8' });
  if (result.error || result.status !== 0) {
    rmSync(destination, { force: true });
    const from = native ? 'binutils' : `binutils-${cross}`;
    fail(`${strip} failed (${result.error?.message ?? result.stderr.trim()}); it comes with Debian's ${from}: apt-get install ${from}`);
  }
}

/**
 * Puts a prepared Node binary where pkg's SEA mode looks before it would download:
 * $HOME/.pkg-cache/sea/node-vX.Y.Z-<os>-<arch>/bin/node (Windows: node-vX.Y.Z-win-x64.exe), with
 * the `.ok` sentinels pkg writes after a verified download (beside the archive name) and after
 * extraction (beside the binary). The archive itself is never read when both sentinels and the
 * binary exist; an empty file stands in for it. A stamp names the source's sha256 and the
 * preparation, so the work is done once; a build running at the same time may be reading the
 * cached binary, so a new one is made beside it and renamed into place.
 */
function seedPkgCache(target: Target, pins: NodeBinaryPins): string {
  const source = nodeBinaryPath(target, pins);
  if (!existsSync(source)) fail(`${path.relative(root, source)} is missing: run npm ci (its prepare step fetches the pinned Node binaries) or npm run prepare`);
  const name = `node-v${pins.version}-${pkgPlatform(target).replace(/^macos-/, 'darwin-')}`;
  const seaCache = path.join(PKG_HOME, '.pkg-cache', 'sea');
  const cached = isWindows(target) ? path.join(seaCache, `${name}.exe`) : path.join(seaCache, name, 'bin', 'node');
  mkdirSync(path.dirname(cached), { recursive: true });
  const stamp = `${cached}.prepared-from`;
  const wanted = `${sha256(source)} ${PREPARATION}`;
  if (!existsSync(cached) || !existsSync(stamp) || readFileSync(stamp, 'utf8') !== wanted) {
    const fresh = `${cached}.${process.pid}.tmp`;
    prepareNode(target, source, fresh);
    renameSync(fresh, cached);
    writeFileSync(stamp, wanted);
  }
  writeFileSync(`${cached}.ok`, '');
  const archive = path.join(seaCache, `${name}.${isWindows(target) ? 'zip' : 'tar.gz'}`);
  writeFileSync(archive, '');
  writeFileSync(`${archive}.ok`, '');
  return cached;
}

/**
 * Runs pkg's simple SEA mode on the bundle (scripts/pkg-sea-run.ts: pkg's `--sea app.js` code path
 * with a relative `main`, so the blob does not depend on the build folder), for the given
 * targets, with their outputs in `stagingDir`, which holds the bundle as ssm-proxy.cjs. pkg's
 * enhanced SEA mode (a package.json or config file) adds a virtual-filesystem bootstrap for
 * projects with many files and assets; the bundle is one file with none, and that bootstrap cost
 * 7 MB of resident memory at `--version` and ~3 MB over a whole transfer (measured).
 */
function runPkg(node: string, targets: Target[], pins: NodeBinaryPins, stagingDir: string, blob: { codeCache: boolean; snapshot: boolean }): Map<Target, string> {
  const outputs = new Map(targets.map((t) => [t, path.join(stagingDir, `ssm-proxy-${t}${isWindows(t) ? '.exe' : ''}`)] as const));
  const job = {
    nodeVersion: pins.version,
    ...blob,
    targets: targets.map((t) => {
      const [platform, arch] = pkgPlatform(t).split('-');
      return { platform, arch, output: outputs.get(t)! };
    }),
  };
  const result = spawnSync(node, ['--import', 'tsx', fromRoot('scripts/pkg-sea-run.ts'), JSON.stringify(job)], {
    cwd: root,
    encoding: 'utf8',
    timeout: 900_000,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: PKG_HOME,
      PKG_CACHE_PATH: path.join(PKG_HOME, '.pkg-cache'),
      TMPDIR: stagingDir,
      NO_COLOR: '1',
    },
  });
  const log = `${result.stdout}${result.stderr}`;
  if (result.status !== 0) fail(`pkg failed (exit ${result.status ?? result.signal ?? result.error?.message}):\n${log}`);
  if (/download/i.test(log)) fail(`pkg tried to download something; the cache seeding no longer matches pkg:\n${log}`);
  if (/warn/i.test(log)) fail(`pkg warned:\n${log}`);
  for (const [target, file] of outputs) {
    if (!existsSync(file)) fail(`pkg finished but made no ${target} executable; the staging folder has ${readdirSync(stagingDir).join(', ')}:\n${log}`);
  }
  return outputs;
}

/** What pkg made is finished per platform: Mach-O signed ad hoc, PE checksummed. */
function finish(target: Target, staged: string, finalName: string): void {
  if (isMac(target)) {
    const signed = adhocSign(readFileSync(staged), finalName);
    writeFileSync(staged, signed.file);
    process.stdout.write(`build-binary: ${finalName}: ad-hoc signed, ${signed.pages} pages, cdhash ${signed.cdhash}\n`);
  } else if (isWindows(target)) {
    writeFileSync(staged, withPeChecksum(readFileSync(staged)));
  }
}

/**
 * Copies the executable pkg made to its place, through a temporary file and a rename, so that a
 * running ssm-proxy is never overwritten in place. The copy also leaves the page cache as an
 * install (cp, install, a download) would: pkg writes the whole file in one call, which lets
 * Linux cache it in large folios that it then maps whole into every process running it, about
 * 18 MB more resident memory than the same file copied (measured with the benchmark).
 */
function placeBinary(staged: string, output: string): string {
  const temporary = `${output}.${process.pid}.tmp`;
  copyFileSync(staged, temporary);
  chmodSync(temporary, 0o755);
  renameSync(temporary, output);
  return output;
}

/** The directory of the package that owns a bundled input path, e.g. node_modules/@smithy/core. */
function packageDirOf(input: string): string | undefined {
  const match = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
  return match?.[1];
}

const LICENCE_FILE = /^(licen[cs]e|copying|notice)(\.(md|txt))?$/i;

/** Node's licence, then one section per package whose code is in the bundle. */
function writeLicences(inputs: Set<string>, pins: NodeBinaryPins, outDir: string): void {
  const nodeVersion = pins.version;
  const sections: string[] = [];
  const nodeLicence = readFileSync(nodeLicencePath(pins), 'utf8');
  sections.push(`ssm-proxy ${readJson<{ version: string }>(fromRoot('package.json')).version} (Apache-2.0) runs on Node.js v${nodeVersion}, built in.\nIt also contains the npm packages listed after Node's licence.\n`);
  sections.push(`${'='.repeat(78)}\nNode.js v${nodeVersion}\n${'='.repeat(78)}\n\n${nodeLicence.trimEnd()}\n`);
  const dirs = new Set<string>();
  for (const input of inputs) {
    const dir = packageDirOf(input);
    if (dir) dirs.add(dir);
  }
  const packages = new Map<string, { dir: string; manifest: { name: string; version: string; license?: string } }>();
  for (const dir of dirs) {
    const manifest = readJson<{ name: string; version: string; license?: string }>(path.join(root, dir, 'package.json'));
    packages.set(`${manifest.name} ${manifest.version}`, { dir, manifest });
  }
  for (const key of [...packages.keys()].sort()) {
    const { dir, manifest } = packages.get(key)!;
    const files = readdirSync(path.join(root, dir)).filter((f) => LICENCE_FILE.test(f)).sort();
    const texts = files.map((f) => readFileSync(path.join(root, dir, f), 'utf8').trimEnd());
    const body = texts.length > 0 ? texts.join('\n\n') : `License: ${manifest.license ?? 'see package'} (the package ships no licence file)`;
    sections.push(`${'='.repeat(78)}\n${manifest.name} ${manifest.version} (${manifest.license ?? 'unknown'})\n${'='.repeat(78)}\n\n${body}\n`);
  }
  writeFileSync(path.join(outDir, 'LICENSES'), sections.join('\n'));
}

/** The built binary must answer --version with package.json's version and nothing on stderr. */
function check(binary: string): void {
  const version = readJson<{ version: string }>(fromRoot('package.json')).version;
  const result = spawnSync(binary, ['--version'], { cwd: '/', env: {}, encoding: 'utf8', timeout: 60_000 });
  if (result.status !== 0 || result.stdout !== `${version}\n` || result.stderr !== '') {
    fail(`${binary} --version gave exit ${result.status}, stdout ${JSON.stringify(result.stdout)}, stderr ${JSON.stringify(result.stderr)}; expected ${version}`);
  }
}

/** SHA256SUMS in the format `sha256sum -c` (and `shasum -a 256 -c`) reads. */
function writeChecksums(outDir: string, names: string[]): void {
  const lines = [...names].sort().map((name) => `${sha256(path.join(outDir, name))}  ${name}\n`);
  writeFileSync(path.join(outDir, 'SHA256SUMS'), lines.join(''));
}

interface Build {
  targets: Target[];
  snapshot: boolean;
  codeCache: boolean;
  stagingDir: string;
}

async function mainBuild(): Promise<void> {
  const started = performance.now();
  const { values } = parseArgs({
    options: {
      'out-dir': { type: 'string' },
      all: { type: 'boolean', default: false },
      'code-cache': { type: 'boolean', default: false },
      snapshot: { type: 'boolean', default: false },
      'no-snapshot': { type: 'boolean', default: false },
    },
  });
  // A V8 code cache or startup snapshot in the blob starts the binary faster (README: Size and
  // start-up), but either is made by the Node running the build, so only this machine's platform
  // can carry one. build:binary makes a snapshot unless told otherwise; build:binaries only when
  // asked, and then for this machine's platform alone. A code cache is opt-in and excludes the
  // snapshot (a snapshot already holds the compiled code of everything it loaded).
  if (values['code-cache'] && values.all) fail('--code-cache is for build:binary (this machine\'s binary): the cache is made by this machine\'s Node');
  if (values.snapshot && values['no-snapshot']) fail('--snapshot and --no-snapshot contradict each other');
  if (values.snapshot && values['code-cache']) fail('--snapshot and --code-cache exclude each other: a snapshot already holds the compiled code');
  const config = readJson<PkgConfig>(PKG_CONFIG);
  const pins = readPins();
  const configured = readTargets(config, pins);
  const host = hostTarget();
  const targets = values.all ? configured : [host];
  if (!configured.includes(host)) fail(`pkg.config.json has no target for this machine (${host})`);
  const snapshot = values.snapshot || (!values.all && !values['no-snapshot'] && !values['code-cache']);
  const outDir = path.resolve(values['out-dir'] ?? fromRoot(config.pkg.outputPath));
  const nameOf = (target: Target): string => (values.all ? `${config.name}-${target}${isWindows(target) ? '.exe' : ''}` : config.name);
  // Each bundle is made in a staging folder beside the binaries and removed once packaged; inside
  // them it is ../ssm-proxy.cjs whatever the folder (see runPkg). The host's binary gets the
  // snapshot bundle when there is one, the others the plain bundle.
  const staging = (kind: string): string => path.join(outDir, `.staging-${process.pid}-${kind}`);
  const builds: Build[] = [];
  const plainTargets = snapshot ? targets.filter((t) => t !== host) : targets;
  if (plainTargets.length > 0) builds.push({ targets: plainTargets, snapshot: false, codeCache: values['code-cache'], stagingDir: staging('plain') });
  if (snapshot) builds.push({ targets: [host], snapshot: true, codeCache: false, stagingDir: staging('snapshot') });

  let done = step(`seeding pkg's cache with Node ${pins.version} for ${targets.join(', ')}`);
  for (const target of targets) seedPkgCache(target, pins);
  // pkg runs under the host's Node of the pinned version (unmodified, as fetched); it also makes
  // the snapshot (pkg picks the target binary that matches the host to make the blob).
  const runner = nodeBinaryPath(host, pins);
  done();

  const inputs = new Set<string>();
  const bundleSizes: string[] = [];
  const names: string[] = [];
  try {
    for (const job of builds) {
      const bundleFile = path.join(job.stagingDir, 'ssm-proxy.cjs');
      done = step(`bundling ${job.snapshot ? 'scripts/snapshot-entry.ts (startup snapshot)' : 'src/cli/main.ts'} with esbuild`);
      const metafile = await bundle(bundleFile, { snapshot: job.snapshot, node: runner });
      for (const input of Object.keys(metafile.inputs)) inputs.add(input);
      bundleSizes.push(`${job.snapshot ? 'snapshot bundle' : 'bundle'} ${(statSync(bundleFile).size / 1024).toFixed(0)} KiB`);
      done();
      done = step(`packaging with @yao-pkg/pkg --sea (node${pins.version}: ${job.targets.join(', ')}${job.snapshot ? ', startup snapshot' : ''}${job.codeCache ? ', code cache' : ''})`);
      const staged = runPkg(runner, job.targets, pins, job.stagingDir, { codeCache: job.codeCache, snapshot: job.snapshot });
      done();
      for (const target of job.targets) {
        const name = nameOf(target);
        finish(target, staged.get(target)!, name);
        placeBinary(staged.get(target)!, path.join(outDir, name));
        names.push(name);
      }
    }
  } finally {
    for (const job of builds) rmSync(job.stagingDir, { recursive: true, force: true });
  }

  writeLicences(inputs, pins, outDir);
  if (values.all) writeChecksums(outDir, names);
  check(path.join(outDir, nameOf(host)));
  const sizes = [...names].sort().map((n) => `${n} ${(statSync(path.join(outDir, n)).size / 1024 / 1024).toFixed(1)} MiB`).join(', ');
  process.stdout.write(
    `build-binary: ${sizes} (${bundleSizes.join(', ')}) in ${path.relative(root, outDir) || '.'}; ` +
      `${((performance.now() - started) / 1000).toFixed(1)} s in all\n`,
  );
}

await mainBuild();
