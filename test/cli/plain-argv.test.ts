/**
 * The fast path of main.ts (plain-argv.ts) against yargs: for every command line of a corpus, when
 * the fast path takes it, yargs (configured exactly as the CLI configures it) must take it too and
 * checkConnectArgs must give the same checked arguments, or the same error, from both. Lines the
 * fast path leaves alone go to yargs as before. The built CLI is then compared, byte for byte,
 * with a yargs-only run of the same lines.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, describe, it } from 'node:test';
import type { CommandModule } from 'yargs';
import { checkConnectArgs, CONNECT_OPTIONS, CONNECT_PLAIN, connectCommand, type ConnectRawArgs } from '../../src/cli/commands/connect.js';
import { parsePlainArgv } from '../../src/cli/plain-argv.js';
import { cliParser } from '../../src/cli/yargs-cli.js';
import { SsmProxyError } from '../../src/errors.js';
import { seededRandom } from '../helpers/prng.js';

const ID = 'i-0123456789abcdef0';

/** Lines the fast path must take (the ProxyCommand forms users write, and the odd values it passes on as typed). */
const PLAIN: string[][] = [
  ['connect', ID],
  ['connect', ID, '22'],
  ['connect', 'mi-0123456789abcdef0', '2222'],
  ['connect', ID, '22', '--profile', 'dev', '--region', 'eu-west-2'],
  ['connect', ID, '22', '--profile=dev', '--region=eu-west-2', '-v'],
  ['connect', '--target', ID, '--port', '443'],
  ['connect', '--target=' + ID, '--port=443'],
  ['connect', ID, '--target', ID],
  ['connect', ID, '--target', 'i-0fedcba9876543210'],
  ['connect', ID, '22', '--port', '23'],
  ['connect', ID, '-vv'],
  ['connect', '-v', ID, '-v', '--verbose'],
  ['connect', ID, '--verbose', '--verbose', '--verbose'],
  ['connect', ID, '--login', 'never'],
  ['connect', ID, '--login=auto'],
  ['connect', ID, '--document-name', 'AWS-StartPortForwardingSession'],
  ['connect', ID, '--endpoint-url', 'http://127.0.0.1:4566', '--ssmmessages-endpoint', 'https://vpce.example/'],
  ['connect', ID, '--endpoint-url', 'ftp://x'],
  ['connect', ID, '--ssmmessages-endpoint=http://plain'],
  ['connect', ID, '--proxy', 'http://proxy:3128', '--ca-bundle', '/etc/ssl/ca.pem', '--connect-timeout', '7'],
  ['connect', ID, '--connect-timeout', '0x10'],
  ['connect', ID, '--connect-timeout', '1e3'],
  ['connect', ID, '--handshake-timeout', '45', '--reconnect-timeout', '600'],
  ['connect', ID, '--handshake-timeout', '99999'],
  ['connect', ID, '--reconnect-timeout='],
  ['connect', ID, '--log-file', '/tmp/x.log'],
  ['connect', ID, '--log-file', ''],
  ['connect', ID, '--log-file='],
  ['connect', ID, '--profile', ''],
  ['connect', ID, '--profile='],
  ['connect', ID, '--region', 'mars-1'],
  ['connect', ID, '--region', 'eu-west-2 '],
  ['connect', ID, '--profile', 'a b=c'],
  ['connect', ID, '--profile', 'ü\u001b[31m'],
  ['connect', ID, '--profile', 'true'],
  ['connect', ID, '--profile', '123'],
  ['connect', ID, '--profile', 'x"'],
  ['connect', ID, '--profile=a=b'],
  ['connect', ID, '0x16'],
  ['connect', ID, '022'],
  ['connect', ID, '65536'],
  ['connect', ID, '1e3'],
  ['connect', ID, ''],
  ['connect', ID, ' 22'],
  ['connect', '1e3'],
  ['connect', '22'],
  ['connect', ''],
  ['connect', 'i-1'],
  ['connect'],
  ['connect', '--port', '22'],
  ['connect', ID, '--target', ''],
  ['connect', 'I-0123456789ABCDEF0'],
];

/** Lines the fast path must leave to yargs: help, version, errors yargs words, forms it reads its own way. */
const NOT_PLAIN: string[][] = [
  [],
  ['--help'],
  ['--version'],
  ['connect', '--help'],
  ['connect', ID, '-h'],
  ['connect', ID, '--version'],
  ['conect', ID],
  ['shell', ID],
  ['--profile', 'dev', 'connect', ID],
  ['connect', ID, '22', 'extra'],
  ['connect', ID, '--no-such'],
  ['connect', ID, '--no-profile'],
  ['connect', ID, '--documentName', 'X'],
  ['connect', ID, '--logFile', 'x'],
  ['connect', ID, '--profile'],
  ['connect', ID, '--profile', '--region', 'eu-west-2'],
  ['connect', ID, '--profile', '-x'],
  ['connect', ID, '--profile=-x'],
  ['connect', ID, '--profile', 'a', '--profile', 'b'],
  ['connect', ID, '--profile', '"dev"'],
  ['connect', ID, "--profile='dev'"],
  ['connect', ID, '--login', 'sometimes'],
  ['connect', ID, '--login='],
  ['connect', ID, '--verbose=2'],
  ['connect', ID, '-vx'],
  ['connect', ID, '-p', '22'],
  ['connect', ID, '-'],
  ['connect', ID, '--'],
  ['connect', '--', ID],
  ['connect', ID, '---profile', 'x'],
  ['connect', ID, '--target', 'a', '--target', 'b'],
  ['connect', ID, '--profile.x', 'y'],
  ['connect', ID, '--__proto__', 'x'],
  ['connect', ID, '--constructor', 'x'],
];

/** What yargs hands connect's handler for a line, or why it refused it. */
async function viaYargs(argv: string[]): Promise<{ raw: ConnectRawArgs } | { refused: string }> {
  let raw: ConnectRawArgs | undefined;
  let refused: string | undefined;
  const capture: CommandModule<object, ConnectRawArgs> = { ...connectCommand, handler: (args) => void (raw = args) };
  try {
    await cliParser(argv, [capture], (message) => {
      refused = message;
      throw new Error(message);
    })
      .exitProcess(false)
      .parseAsync();
  } catch (error) {
    refused ??= (error as Error).message;
  }
  if (refused !== undefined || raw === undefined) return { refused: refused ?? 'no handler call' };
  return { raw };
}

/** checkConnectArgs' outcome, as the keys runConnect reads, or the error's kind and message. */
function checked(raw: ConnectRawArgs, argv: string[]): unknown {
  try {
    const args = checkConnectArgs(raw, argv) as unknown as Record<string, unknown>;
    const keys = [...Object.keys(CONNECT_OPTIONS), 'target', 'port'];
    return Object.fromEntries(keys.filter((key) => args[key] !== undefined).map((key) => [key, args[key]]));
  } catch (error) {
    assert.ok(error instanceof SsmProxyError, `only SsmProxyError from the checks, got ${String(error)}`);
    return { error: error.kind, message: error.message };
  }
}

async function assertSameAsYargs(argv: string[]): Promise<void> {
  const plain = parsePlainArgv(argv, CONNECT_PLAIN);
  assert.ok(plain, `the fast path takes ${JSON.stringify(argv)}`);
  const yargs = await viaYargs(argv);
  assert.ok('raw' in yargs, `yargs refused ${JSON.stringify(argv)} the fast path took: ${'refused' in yargs ? yargs.refused : ''}`);
  assert.deepEqual(checked(plain as unknown as ConnectRawArgs, argv), checked(yargs.raw, argv), JSON.stringify(argv));
}

/** Command lines built from words that are plain, odd or wrong, seeded so a failure reproduces. */
function randomLines(count: number, seed: number): string[][] {
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const values = ['dev', '', 'eu-west-2', '22', '0x16', '-x', '"q"', 'a b', 'auto', 'never', 'http://127.0.0.1:1', ID, 'mi-0123456789abcdef0', '1e3', '=', 'x=y', '--', 'ü'];
  const names = [...Object.keys(CONNECT_OPTIONS), 'target', 'port', 'no-such', 'documentName', 'help', 'version', 'no-profile'];
  const lines: string[][] = [];
  for (let n = 0; n < count; n++) {
    const line = [random() < 0.95 ? 'connect' : pick(['shell', 'conect', '-v'])];
    const words = Math.floor(random() * 7);
    for (let w = 0; w < words; w++) {
      const form = random();
      const name = pick(names);
      if (form < 0.25) line.push(pick(values));
      else if (form < 0.55) line.push(`--${name}`, pick(values));
      else if (form < 0.8) line.push(`--${name}=${pick(values)}`);
      else if (form < 0.9) line.push(pick(['-v', '-vv', '-vvv', '--verbose', '-h', '-x']));
      else line.push(`--${name}`);
    }
    lines.push(line);
  }
  return lines;
}

describe('connect fast path (plain argv) against yargs', () => {
  it('takes every plain line, and checkConnectArgs gives what it gives for yargs', async () => {
    for (const argv of PLAIN) await assertSameAsYargs(argv);
  });

  it('leaves help, version, unknown, repeated and odd forms to yargs', () => {
    for (const argv of NOT_PLAIN) assert.equal(parsePlainArgv(argv, CONNECT_PLAIN), undefined, JSON.stringify(argv));
  });

  it('agrees with yargs on 600 seeded random lines wherever it takes one', async () => {
    let taken = 0;
    for (const argv of randomLines(600, 17)) {
      if (!parsePlainArgv(argv, CONNECT_PLAIN)) continue;
      taken++;
      await assertSameAsYargs(argv);
    }
    // The corpus must exercise the fast path, not only the fall-back.
    assert.ok(taken >= 100, `the fast path took ${taken} of 600 lines`);
  });
});

describe('ssm-proxy connect: the built CLI against a yargs-only run', () => {
  const CLI = resolve(import.meta.dirname, '../../lib/cli/main.js');
  const yargsOnly = pathToFileURL(resolve(import.meta.dirname, '../../lib/cli/yargs-cli.js')).href;
  const home = mkdtempSync(join(tmpdir(), 'ssm-proxy-plain-'));
  after(() => rmSync(home, { recursive: true, force: true }));
  writeFileSync(join(home, 'config'), '[profile dev]\nregion = eu-west-2\n[profile noregion]\nsso_session = corp\n');
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: home,
    AWS_CONFIG_FILE: join(home, 'config'),
    AWS_SHARED_CREDENTIALS_FILE: join(home, 'credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
  };
  const run = (program: string[], argv: string[]) => {
    const result = spawnSync(process.execPath, [...program, ...argv], { input: '', timeout: 20_000, env });
    return { code: result.status, signal: result.signal, stdout: result.stdout.toString('hex'), stderr: result.stderr.toString() };
  };
  // Lines that end before any network call: usage (2) and configuration (3) errors of both paths.
  const lines: string[][] = [
    ['connect', 'i-1'],
    ['connect', ID, '0x16'],
    ['connect', ID, '22', '--port', '23'],
    ['connect', ID, '--profile', ''],
    ['connect', ID, '--profile', 'nope'],
    ['connect', ID, '--profile', 'noregion', '-v'],
    ['connect', ID, '--region', 'mars'],
    ['connect', ID, '--log-file='],
    ['connect', ID, '--handshake-timeout', '1e3'],
    ['connect', ID, '--profile', 'dev', '--endpoint-url', 'ftp://x'],
    ['connect', ID, '--profile', 'dev', '--log-file', join(home, 'no', 'such', 'dir', 'log')],
    ['connect', ID, '--login', 'sometimes'],
    ['connect', ID, '--no-such', 'x'],
    ['connect', ID, '--profile', 'a', '--profile', 'b'],
  ];
  it('writes the same bytes and exits with the same code', () => {
    // main.ts as it was: yargs takes every line (and the handler reads process.argv.slice(2)).
    const referenceScript = join(home, 'yargs-only.mjs');
    writeFileSync(referenceScript, `const { runYargs } = await import(${JSON.stringify(yargsOnly)});\nawait runYargs(process.argv.slice(2));\n`);
    for (const argv of lines) {
      const fast = run([CLI], argv);
      const reference = run([referenceScript], argv);
      assert.deepEqual(fast, reference, JSON.stringify(argv));
      assert.ok(fast.code === 2 || fast.code === 3 || fast.code === 9, `${JSON.stringify(argv)}: a usage, config or io error, got ${fast.code}: ${fast.stderr}`);
      assert.equal(fast.stdout, '', 'nothing on stdout');
    }
  });
});
