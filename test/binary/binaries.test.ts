/**
 * `npm run build:binaries`: the five executables, as a user downloads them, checked for each
 * platform as far as this Linux x86-64 machine can:
 *
 *   linux-x64     runs natively (test/binary/binary.test.ts covers it in depth)
 *   linux-arm64   runs under Debian's qemu-user-static with Debian's arm64 C/C++ runtime
 *                 (libc6-arm64-cross, libstdc++6-arm64-cross): --version, install-host, and ssh +
 *                 scp with it as the ProxyCommand into a real sshd through the fake SSM service
 *   darwin-*      Mach-O structure, the SEA segment, and the ad-hoc signature, recomputed by an
 *                 independent checker (macho-signature.ts); not run (no macOS here)
 *   win-x64       a PE with no stale signature (osslsigncode), run under Debian's wine64:
 *                 --version, --help, install-host with Windows paths, and ssh + scp with it as
 *                 the ProxyCommand (Windows pipes as its stdio, through wine/stdio-bridge.cjs)
 *
 * The build runs twice into two folders, the second with no network (its own network namespace):
 * the outputs must be byte for byte the same.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { assertScpRoundTrip, describeRun, REGION, startHarness, TARGET_ID, type Harness } from '../e2e/harness.js';
import { TEST_CREDENTIALS } from '../fake-ssm/scripted-client.js';
import { checkMachOSignature, CPU_TYPE_ARM64, CPU_TYPE_X86_64 } from './macho-signature.js';

const REPO = path.resolve(import.meta.dirname, '../..');
const VERSION = (JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
const NAMES = ['ssm-proxy-darwin-arm64', 'ssm-proxy-darwin-x64', 'ssm-proxy-linux-arm64', 'ssm-proxy-linux-x64', 'ssm-proxy-win-x64.exe'];
const SEA_FUSE = Buffer.from('NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2:1');
/** Debian's arm64 runtime for qemu-aarch64-static -L (libc6-arm64-cross, libstdc++6-arm64-cross). */
const ARM64_SYSROOT = '/usr/aarch64-linux-gnu';
const QEMU = 'qemu-aarch64-static';
const WINE = '/usr/lib/wine/wine64';
const WINESERVER = '/usr/lib/wine/wineserver';
const RUNTIME_NOISE = /warning|\(node:\d+\)|deprecat/i;

let dir = '';
let outA = '';
let outB = '';

/** `npm run build:binaries`; `offline` runs it in a network namespace of its own, with no network. */
function build(outDir: string, offline = false): void {
  const npm = ['npm', 'run', '--silent', 'build:binaries', '--', '--out-dir', outDir];
  const [command, ...args] = offline ? ['unshare', '--net', ...npm] : npm;
  const result = spawnSync(command!, args, { cwd: REPO, encoding: 'utf8', timeout: 900_000, env: { ...process.env, npm_config_update_notifier: 'false' } });
  assert.equal(result.status, 0, `npm run build:binaries failed:\n${result.error?.message ?? ''}${result.stdout}${result.stderr}`);
}

const file = (name: string): string => path.join(outA, name);
const readIfThere = (name: string): string => (existsSync(name) ? readFileSync(name, 'utf8') : '');
const readPinnedVersion = (): string => `v${(JSON.parse(readFileSync(path.join(REPO, 'scripts', 'node-binaries.json'), 'utf8')) as { version: string }).version}`;
/** Static test keys the fake SSM verifies signatures with (test/e2e/harness.ts uses the same). */
const TEST_AWS_ENV = { AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey, AWS_REGION: REGION, AWS_EC2_METADATA_DISABLED: 'true' };

/** Waits (with a deadline) until `name` exists and is not empty; returns its text. */
async function waitForFile(name: string, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const text = readIfThere(name);
    if (text !== '') return text;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${name} did not appear within ${timeoutMs} ms`);
}
const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

describe('npm run build:binaries: five platforms', { skip: process.platform === 'linux' && process.arch === 'x64' ? false : 'built and checked on linux-x64' }, () => {
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'ssm-proxy binaries-'));
    outA = path.join(dir, 'a');
    outB = path.join(dir, 'b');
    build(outA);
  });

  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('makes the five executables, LICENSES and a SHA256SUMS that sha256sum -c accepts', () => {
    assert.deepEqual(readdirSync(outA).sort(), ['LICENSES', 'SHA256SUMS', ...NAMES].sort());
    const sums = readFileSync(file('SHA256SUMS'), 'utf8');
    assert.equal(sums, [...NAMES].sort().map((name) => `${sha256(readFileSync(file(name)))}  ${name}\n`).join(''));
    const check = spawnSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: outA, encoding: 'utf8', timeout: 120_000 });
    assert.equal(check.status, 0, check.stdout + check.stderr);
    assert.match(readFileSync(file('LICENSES'), 'utf8'), /Node\.js v22\.\d+\.\d+/);
  });

  it('each is within 10 % of the linux-x64 size or smaller, and carries the SEA blob with the bundle', (t) => {
    const reference = statSync(file('ssm-proxy-linux-x64')).size;
    for (const name of NAMES) {
      const size = statSync(file(name)).size;
      t.diagnostic(`${name}: ${size} bytes (${(size / 1e6).toFixed(1)} MB, ${((size / reference) * 100).toFixed(0)} % of linux-x64)`);
      assert.ok(size <= reference * 1.1, `${name} is ${size} bytes, more than 110 % of ${reference}`);
      const bytes = readFileSync(file(name));
      assert.equal(bytes.indexOf(SEA_FUSE), bytes.lastIndexOf(SEA_FUSE), `${name}: one SEA fuse`);
      assert.ok(bytes.indexOf(SEA_FUSE) > 0, `${name}: the SEA fuse is flipped (a blob was injected)`);
      assert.ok(bytes.includes('install-host <alias>'), `${name}: the bundle is inside`);
    }
  });

  it('is reproducible and offline: a second build, with no network at all, gives the same bytes', () => {
    build(outB, true);
    assert.equal(readFileSync(path.join(outB, 'SHA256SUMS'), 'utf8'), readFileSync(file('SHA256SUMS'), 'utf8'));
  });

  it('linux: ELF executables for x86-64 and AArch64; the x86-64 one runs here', () => {
    const machine = (name: string): number => readFileSync(file(name)).readUInt16LE(18);
    assert.equal(machine('ssm-proxy-linux-x64'), 62); // EM_X86_64
    assert.equal(machine('ssm-proxy-linux-arm64'), 183); // EM_AARCH64
    const result = spawnSync(file('ssm-proxy-linux-x64'), ['--version'], { env: {}, encoding: 'utf8', timeout: 60_000 });
    assert.equal(result.stdout, `${VERSION}\n`);
  });

  describe('darwin-x64 and darwin-arm64: Mach-O with the SEA segment and a valid ad-hoc signature', () => {
    for (const [name, cputype] of [
      ['ssm-proxy-darwin-x64', CPU_TYPE_X86_64],
      ['ssm-proxy-darwin-arm64', CPU_TYPE_ARM64],
    ] as const) {
      it(`${name}: every page hash, the requirements slot and the CodeDirectory hash check out`, (t) => {
        const bytes = readFileSync(file(name));
        const report = checkMachOSignature(bytes);
        assert.deepEqual(report.problems, []);
        assert.equal(report.cputype, cputype);
        assert.equal(report.identifier, name);
        assert.equal(report.flags, 0x2, 'CS_ADHOC only: no hardened runtime without entitlements');
        assert.deepEqual(report.blobTypes, [0, 2, 0x10000]);
        t.diagnostic(`${name}: ${report.pages} pages signed up to ${report.codeLimit}, cdhash ${report.cdhash}`);
        const sea = report.segments.find((s) => s.name === 'NODE_SEA');
        assert.ok(sea, 'a NODE_SEA segment');
        const section = sea.sections.find((s) => s.name === '__NODE_SEA_BLOB');
        assert.ok(section, 'with the __NODE_SEA_BLOB section');
        assert.ok(bytes.subarray(section.offset, section.offset + section.size).includes('install-host <alias>'), 'holding the bundle');
      });
    }

    it("the checker itself: it accepts Node's own Apple-made signature and rejects one changed byte", () => {
      // Node's release binaries are signed by Apple's codesign (Developer ID, hardened runtime):
      // the same structure and hashes, other flags. This pins the checker to real codesign output.
      const store = path.join(REPO, '.node-binaries');
      const version = readdirSync(store).find((v) => v.startsWith('v'));
      assert.ok(version, 'npm ci fetched the pinned Node binaries');
      const original = readFileSync(path.join(store, version, 'darwin-arm64', 'node'));
      assert.deepEqual(checkMachOSignature(original).problems, ['flags 0x10000 lack CS_ADHOC']);
      const tampered = readFileSync(file('ssm-proxy-darwin-arm64'));
      tampered[5_000_000] = tampered[5_000_000]! ^ 1;
      assert.deepEqual(checkMachOSignature(tampered).problems, [`page ${Math.floor(5_000_000 / 4096)} hash does not match`]);
    });
  });

  describe('win-x64: a PE without a stale signature, run under wine64', () => {
    let prefix = '';
    const wineEnv = (): Record<string, string> => ({ PATH: '/usr/bin:/bin', HOME: dir, WINEPREFIX: prefix, WINEDEBUG: '-all', WINEDLLOVERRIDES: 'mscoree,mshtml=' });
    /**
     * Runs a program under wine with its stdout and stderr in files: Node under wine cannot open
     * a pipe handed to it as stdout or stderr (EBADF in createWritableStdioStream).
     */
    const wine = (args: string[], timeout = 120_000, env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string; error?: Error } => {
      const out = path.join(dir, 'wine.stdout');
      const err = path.join(dir, 'wine.stderr');
      const outFd = openSync(out, 'w');
      const errFd = openSync(err, 'w');
      let result: SpawnSyncReturns<Buffer>;
      try {
        result = spawnSync(WINE, args, { cwd: dir, env: { ...wineEnv(), ...env }, stdio: ['ignore', outFd, errFd], timeout });
      } finally {
        closeSync(outFd);
        closeSync(errFd);
      }
      return { status: result.status, stdout: readFileSync(out, 'utf8'), stderr: readFileSync(err, 'utf8'), ...(result.error ? { error: result.error } : {}) };
    };

    before(() => {
      prefix = path.join(dir, 'wine prefix');
      mkdirSync(prefix);
      // The first start of a prefix sets it up (slow); Node needs it to say Windows 10.
      const setup = wine(['winecfg', '/v', 'win10'], 300_000);
      assert.equal(setup.status, 0, `wine prefix setup: ${setup.error?.message ?? setup.stderr}`);
    });

    // wine leaves its wineserver (and services it started) running for a while: stop them all.
    after(() => {
      if (prefix) spawnSync(WINESERVER, ['--kill'], { env: wineEnv(), stdio: 'ignore', timeout: 60_000 });
    });

    it('is a PE32+ for x86-64 whose signature osslsigncode finds removed', () => {
      const bytes = readFileSync(file('ssm-proxy-win-x64.exe'));
      const pe = bytes.readUInt32LE(0x3c);
      assert.equal(bytes.toString('latin1', pe, pe + 4), 'PE\0\0');
      assert.equal(bytes.readUInt16LE(pe + 4), 0x8664);
      assert.equal(bytes.readUInt16LE(pe + 24), 0x20b);
      assert.equal(bytes.readUInt32LE(pe + 24 + 112 + 4 * 8 + 4), 0, 'no certificate table');
      const verify = spawnSync('osslsigncode', ['verify', '-in', file('ssm-proxy-win-x64.exe')], { encoding: 'utf8', timeout: 120_000 });
      assert.match(verify.stdout + verify.stderr, /No signature found/);
      assert.doesNotMatch(verify.stdout + verify.stderr, /invalid PE checksum/, 'the checksum the build wrote is the one osslsigncode calculates');
      const checksum = /PE checksum\s*:\s*([0-9A-F]{8})/i.exec(verify.stdout);
      assert.ok(checksum, verify.stdout);
      assert.equal(parseInt(checksum[1]!, 16), bytes.readUInt32LE(pe + 24 + 64), 'osslsigncode reads the checksum the build wrote');
    });

    it('--version and --help run', () => {
      const version = wine([file('ssm-proxy-win-x64.exe'), '--version']);
      assert.equal(version.status, 0, version.error?.message ?? version.stderr);
      assert.equal(version.stdout.replace(/\r\n/g, '\n'), `${VERSION}\n`);
      assert.doesNotMatch(version.stderr, RUNTIME_NOISE);
      const help = wine([file('ssm-proxy-win-x64.exe'), '--help']);
      assert.equal(help.status, 0, help.stderr);
      assert.match(help.stdout, /ssm-proxy connect/);
    });

    it('install-host writes %USERPROFILE%\\.ssh\\config with a ProxyCommand quoted for Windows OpenSSH', () => {
      // The executable's folder has a space in its name ("ssm-proxy binaries-…"); wine shows the
      // Linux file system as drive Z: and gives the process its profile folder C:\users\<name>.
      const exe = `Z:${file('ssm-proxy-win-x64.exe').replace(/\//g, '\\')}`;
      const result = wine([file('ssm-proxy-win-x64.exe'), 'install-host', 'win-ssm', '--target', TARGET_ID, '--profile', 'dev-team', '--region', REGION]);
      assert.equal(result.status, 0, result.error?.message ?? result.stderr);
      // Windows' OpenSSH has no ControlMaster: the fast block is Compression alone, and install-host says so.
      assert.equal(
        result.stdout,
        `~\\.ssh\\config: connection sharing left out: Windows' OpenSSH has no ControlMaster\n~\\.ssh\\config: added Host win-ssm (target ${TARGET_ID}, profile dev-team, region ${REGION})\n`,
      );
      const users = path.join(prefix, 'drive_c', 'users');
      const written = readdirSync(users)
        .map((user) => path.join(users, user, '.ssh', 'config'))
        .filter((config) => existsSync(config));
      assert.equal(written.length, 1, `one profile's .ssh\\config: ${written.join(', ')}`);
      const text = readFileSync(written[0]!, 'utf8');
      assert.match(text, /^Host win-ssm$/m);
      assert.ok(text.includes(`    ProxyCommand "${exe}" connect ${TARGET_ID} %p --profile dev-team --region ${REGION}\n`), text);
    });

    it('the ProxyCommand install-host writes, started as Windows OpenSSH starts it, gives ssm-proxy exactly its words', () => {
      // Windows OpenSSH expands %-tokens, then passes the line to CreateProcessW with no shell.
      // Here a preload inside the .exe (NODE_OPTIONS) does that with Node's verbatim spawn, and
      // the child reports the argv the Windows C runtime (wine's) split from the line.
      const folder = path.join(dir, '100% sure', "Jane's tools");
      mkdirSync(folder, { recursive: true });
      const exe = path.join(folder, 'ssm-proxy.exe');
      copyFileSync(file('ssm-proxy-win-x64.exe'), exe);
      const toWindows = (p: string): string => `Z:${p.replace(/\//g, '\\')}`;
      const config = path.join(dir, 'probe_ssh_config');
      const install = wine([exe, 'install-host', 'probe-ssm', '--target', TARGET_ID, '--profile', 'dev-team', '--region', REGION, '--config', toWindows(config)]);
      assert.equal(install.status, 0, install.error?.message ?? install.stderr);
      const line = /^\s+ProxyCommand (.*)$/m.exec(readFileSync(config, 'utf8'))?.[1];
      assert.ok(line, 'a ProxyCommand line');
      assert.ok(line.startsWith(`"${toWindows(exe).replace(/%/g, '%%')}" `), line);
      const expanded = line.replace(/%(%|p)/g, (_m, c: string) => (c === '%' ? '%' : '2222'));
      const probe = path.join(dir, 'argv-probe.cjs');
      const report = path.join(dir, 'argv.json');
      writeFileSync(
        probe,
        [
          "const fs = require('node:fs');",
          'if (process.env.PROBE_CHILD) {',
          "  fs.writeFileSync(process.env.PROBE_OUT, JSON.stringify({ execPath: process.execPath, args: process.argv.slice(2) }));",
          '  process.exit(0);',
          '}',
          "const line = fs.readFileSync(process.env.PROBE_LINE, 'utf8');",
          "const child = require('node:child_process').spawnSync(process.execPath, [], { argv0: line, windowsVerbatimArguments: true, env: { ...process.env, PROBE_CHILD: '1' }, stdio: 'ignore', timeout: 60000 });",
          'process.exit(child.status === null ? 99 : child.status);',
          '',
        ].join('\n'),
      );
      writeFileSync(path.join(dir, 'line.txt'), expanded);
      const run = wine([exe], 120_000, {
        // Forward slashes: NODE_OPTIONS reads a backslash inside quotes as an escape.
        NODE_OPTIONS: `--require "Z:${probe}"`,
        PROBE_LINE: toWindows(path.join(dir, 'line.txt')),
        PROBE_OUT: toWindows(report),
      });
      assert.equal(run.status, 0, run.error?.message ?? run.stderr);
      const seen = JSON.parse(readFileSync(report, 'utf8')) as { execPath: string; args: string[] };
      assert.equal(seen.execPath.toLowerCase(), toWindows(exe).toLowerCase());
      assert.deepEqual(seen.args, ['connect', TARGET_ID, '2222', '--profile', 'dev-team', '--region', REGION]);
    });

    it('list-hosts, install-host again and uninstall-host read the Windows-quoted ProxyCommand back', () => {
      const config = path.join(dir, 'round_trip_config');
      const windowsConfig = `Z:${config.replace(/\//g, '\\')}`;
      const exe = file('ssm-proxy-win-x64.exe');
      const first = wine([exe, 'install-host', 'trip-ssm', '--target', TARGET_ID, '--profile', 'dev-team', '--region', REGION, '--config', windowsConfig, '--no-backup']);
      assert.equal(first.status, 0, first.stderr);
      const list = wine([exe, 'list-hosts', '--config', windowsConfig]);
      assert.equal(list.status, 0, list.stderr);
      assert.match(list.stdout, new RegExp(`^trip-ssm\\s+ssm-proxy\\s+${TARGET_ID}\\s+dev-team\\s+${REGION}\\s+-\\s+yes\\s+2$`, 'm'));
      // Only --region: target and profile come from the line already there.
      const again = wine([exe, 'install-host', 'trip-ssm', '--region', 'eu-west-2', '--config', windowsConfig, '--no-backup']);
      assert.equal(again.status, 0, again.stderr);
      assert.match(readFileSync(config, 'utf8'), new RegExp(`ProxyCommand "[^"]+" connect ${TARGET_ID} %p --profile dev-team --region eu-west-2$`, 'm'));
      const removed = wine([exe, 'uninstall-host', 'trip-ssm', '--config', windowsConfig, '--no-backup']);
      assert.equal(removed.status, 0, removed.stderr);
      assert.doesNotMatch(readFileSync(config, 'utf8'), /trip-ssm/);
    });

    it('install-host --config with a Windows path with spaces and backslashes keeps the rest of the file byte for byte', () => {
      const folder = path.join(dir, 'Jane Doe', 'my ssh');
      mkdirSync(folder, { recursive: true });
      const config = path.join(folder, 'config');
      const before = '# mine\r\nHost other\r\n    HostName example.com\r\n';
      writeFileSync(config, before);
      const windowsPath = `Z:${config.replace(/\//g, '\\')}`;
      const result = wine([file('ssm-proxy-win-x64.exe'), 'install-host', 'win-ssm', '--target', TARGET_ID, '--region', REGION, '--config', windowsPath, '--no-backup']);
      assert.equal(result.status, 0, result.error?.message ?? result.stderr);
      const after = readFileSync(config, 'utf8');
      assert.ok(after.startsWith(before), after);
      assert.match(after.slice(before.length), new RegExp(`Host win-ssm\\r?\\n`));
      assert.deepEqual(readdirSync(folder), ['config'], 'no temp file left');
    });
    it('carries real ssh and scp sessions with Windows pipes as its stdio (through a bridge inside wine), sha256 unchanged', async (t) => {
      // Windows OpenSSH starts the ProxyCommand with Windows pipes as its stdio. Under wine only a
      // Windows program can make those: the pinned Windows Node runs test/binary/wine/stdio-bridge.cjs,
      // which starts ssm-proxy-win-x64.exe per connection; Linux ssh reaches it through
      // bridge-client.cjs. So the .exe's whole data path runs: credentials, StartSession, the
      // websocket, the handshake, stdin and stdout.
      const portFile = path.join(dir, 'bridge.port');
      const bridgeLog = path.join(dir, 'bridge.log');
      const toWindows = (p: string): string => `Z:${p.replace(/\//g, '\\')}`;
      const windowsNode = path.join(REPO, '.node-binaries', readPinnedVersion(), 'win-x64', 'node.exe');
      const bridge = spawn(WINE, [windowsNode, toWindows(path.join(REPO, 'test', 'binary', 'wine', 'stdio-bridge.cjs')), toWindows(portFile), toWindows(bridgeLog)], {
        cwd: dir,
        env: { ...TEST_AWS_ENV, ...wineEnv() },
        stdio: 'ignore',
      });
      let harness: Harness | undefined;
      try {
        const port = await waitForFile(portFile, 120_000);
        harness = await startHarness({
          ssmProxy: [process.execPath, path.join(REPO, 'test', 'binary', 'wine', 'bridge-client.cjs'), port, toWindows(file('ssm-proxy-win-x64.exe'))],
        });
        const ok = await harness.runSsh(harness.alias, 'echo ok', { timeoutMs: 120_000 });
        assert.equal(ok.code, 0, `${describeRun(ok)}\nbridge: ${readIfThere(bridgeLog)}`);
        assert.equal(ok.stdout.toString('latin1'), 'ok\n');
        await assertScpRoundTrip(harness, 1 << 20, { timeoutMs: 120_000 });
        // Three sessions, each started by the .exe and ended by it with exit code 0.
        assert.equal(harness.fake.records.apiCalls.filter((c) => c.operation === 'StartSession' && c.signatureOk).length, 3);
        // scp is done once the last bytes arrived; the .exe may still be closing its session.
        const deadline = Date.now() + 30_000;
        while (readIfThere(bridgeLog).trim().split('\n').length < 3 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
        assert.deepEqual(readIfThere(bridgeLog).trim().split('\n'), ['exit 0', 'exit 0', 'exit 0']);
        t.diagnostic(`bridge log: ${readIfThere(bridgeLog).trim().replace(/\n/g, ' | ')}`);
      } finally {
        await harness?.stop();
        bridge.kill('SIGKILL');
      }
    });

  });

  describe('linux-arm64 under qemu-user-static', () => {
    const qemu = (): string[] => [QEMU, '-L', ARM64_SYSROOT, file('ssm-proxy-linux-arm64')];
    let harness: Harness;
    before(async () => {
      harness = await startHarness({ ssmProxy: qemu() });
    });
    after(() => harness?.stop());

    it('--version runs as an AArch64 process', async () => {
      const result = await harness.runSsmProxy(['--version'], { cwd: dir });
      assert.equal(result.code, 0, describeRun(result));
      assert.equal(result.stdout.toString('latin1'), `${VERSION}\n`);
      assert.equal(result.stderr, '');
    });

    it("install-host writes the arm64 binary's own path", async () => {
      const config = path.join(dir, 'arm64_ssh_config');
      const result = await harness.runSsmProxy(['install-host', 'arm-ssm', '--target', TARGET_ID, '--region', REGION, '--config', config], { cwd: dir });
      assert.equal(result.code, 0, describeRun(result));
      assert.ok(readFileSync(config, 'utf8').includes(`ProxyCommand "${file('ssm-proxy-linux-arm64')}" connect ${TARGET_ID} %p --region ${REGION}`));
    });

    it('ssh runs a command and scp copies 2 MiB up and back, sha256 unchanged', async () => {
      const echo = await harness.runSsh(harness.alias, 'echo arm64', { cwd: dir });
      assert.equal(echo.code, 0, describeRun(echo));
      assert.equal(echo.stdout.toString('latin1'), 'arm64\n');
      await assertScpRoundTrip(harness, 2 << 20, { cwd: dir });
    });
  });
});
