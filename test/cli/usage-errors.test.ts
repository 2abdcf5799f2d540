/**
 * What yargs itself refuses — an unknown flag or command, a missing positional or required option,
 * a value outside the choices, no command at all — ends like every other usage error: exit 2 and
 * exactly one stderr line `ssm-proxy: …` pointing at --help. --help itself still prints the help.
 * Run `npm run build` first.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EXIT_CODES } from '../../src/errors.js';
import { assertOneLine, runCli, sandbox, TARGET } from '../hostile/aws-harness.js';

const box = sandbox();
const run = (args: string[]) => runCli(args, box.env());

describe('usage failures found by the argument parser are one line, exit 2', () => {
  const cases: [string[], RegExp][] = [
    [['connect', TARGET, '--no-such-flag'], /^ssm-proxy: Unknown argument: such-flag \(see 'ssm-proxy connect --help'\)$/],
    [['shell', TARGET, '--bogus', '1', '--log-levl=2'], /^ssm-proxy: Unknown arguments: bogus, log-levl \(see 'ssm-proxy shell --help'\)$/],
    [['forward'], /^ssm-proxy: Not enough non-option arguments: got 0, need at least 2 \(see 'ssm-proxy forward --help'\)$/],
    [['forward', TARGET], /^ssm-proxy: Not enough non-option arguments: got 1, need at least 2 \(see 'ssm-proxy forward --help'\)$/],
    [['start-session'], /^ssm-proxy: Missing required argument: target \(see 'ssm-proxy start-session --help'\)$/],
    [['connect', TARGET, '--login', 'maybe'], /^ssm-proxy: Invalid values: .*login.*maybe.* \(see 'ssm-proxy connect --help'\)$/],
    [[], /^ssm-proxy: name a command \(see 'ssm-proxy --help'\)$/],
    [['forwrd'], /^ssm-proxy: unknown command 'forwrd'; did you mean forward\? \(see 'ssm-proxy --help'\)$/],
    [['install-host', 'a', 'b', 'c', 'd', 'e'], /^ssm-proxy: .* \(see 'ssm-proxy install-host --help'\)$/],
  ];
  for (const [args, expected] of cases) {
    it(`ssm-proxy ${args.join(' ') || '(nothing)'}`, async () => {
      assertOneLine(await run(args), EXIT_CODES.usage, expected);
    });
  }

  it('terminal escapes in an unknown flag are shown escaped', async () => {
    const outcome = await run(['connect', TARGET, '--x\x1b[2J']);
    assertOneLine(outcome, EXIT_CODES.usage, /^ssm-proxy: Unknown arguments?: .*x\\x1b\[2J/);
    assert.ok(!outcome.stderr.includes('\x1b'));
  });

  it('--help still prints the help on stdout and exits 0', async () => {
    for (const args of [['--help'], ['connect', '--help'], ['forward', '--help'], ['shell', '-h']]) {
      const outcome = await run(args);
      assert.equal(outcome.code, 0, outcome.stderr);
      assert.equal(outcome.stderr, '');
      assert.match(outcome.stdout.toString(), /^ssm-proxy /);
      assert.ok(outcome.stdout.toString().split('\n').length > 10, 'the whole help text');
    }
  });
});
