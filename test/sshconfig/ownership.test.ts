/**
 * uninstall-host removes only what install-host wrote and still owns (checksummed markers), and
 * install-host keeps those checksums true; %h/%n resolve the same way in install-host,
 * list-hosts and doctor.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { checkSshConfig } from '../../src/doctor/ssh-check.js';
import { SsmProxyError } from '../../src/errors.js';
import { planInstall } from '../../src/sshconfig/install-plan.js';
import { installHost } from '../../src/sshconfig/install.js';
import { joinLines, splitLines } from '../../src/sshconfig/lines.js';
import { listSsmHosts } from '../../src/sshconfig/list-plan.js';
import { parseConfig } from '../../src/sshconfig/locate.js';
import { resolveProxyTarget } from '../../src/sshconfig/proxy-target.js';
import { planUninstall } from '../../src/sshconfig/uninstall-plan.js';
import { ID } from './cases.js';
import { SELF, SELF_PATH, tempHome } from './helpers.js';

const parse = (text: string) => parseConfig(splitLines(Buffer.from(text)), 'cfg');
const install = (text: string, request: Omit<Parameters<typeof planInstall>[1], 'self'>) =>
  joinLines(planInstall(parse(text), { ...request, self: SELF }).lines).toString();
const uninstall = (text: string, alias: string, force = false) => {
  const plan = planUninstall(parse(text), alias, { force, shownAs: 'cfg' });
  return { text: joinLines(plan.lines).toString(), plan };
};
const refusal = (text: string, alias: string): string => {
  try {
    uninstall(text, alias);
  } catch (error) {
    assert.ok(error instanceof SsmProxyError && error.kind === 'config');
    return error.message;
  }
  assert.fail('uninstall did not refuse');
};

const SEED = 'Host web\n    HostName web.example.com\n    User admin\n';

describe('uninstall of a created block', () => {
  test('untouched: removed, the file is the seed again', () => {
    const installed = install(SEED, { alias: 'box', target: ID, user: 'ec2-user' });
    assert.match(installed, /# added by ssm-proxy install-host \(checksum [0-9a-f]{8}\)\nHost box\n/);
    assert.equal(uninstall(installed, 'box').text, SEED);
  });

  test('hand-edited, then installed again with a new profile: the old checksum stays, uninstall still refuses', () => {
    const installed = install(SEED, { alias: 'box', target: ID });
    const edited = installed.replace('Host box\n', 'Host box\n    LocalForward 5432 db:5432\n');
    const reinstalled = install(edited, { alias: 'box', profile: 'other' });
    assert.match(reinstalled, /--profile other/);
    assert.equal(reinstalled.match(/checksum ([0-9a-f]{8})/)![1], installed.match(/checksum ([0-9a-f]{8})/)![1]);
    assert.match(refusal(reinstalled, 'box'), /line \d+ 'LocalForward 5432 db:5432' was added/);
    const forced = uninstall(reinstalled, 'box', true);
    assert.equal(forced.text, SEED);
    assert.deepEqual(forced.plan.overridden, [forced.plan.overridden[0]]);
  });

  test('untouched and installed again: the checksum follows, uninstall is clean', () => {
    const once = install(SEED, { alias: 'box', target: ID });
    const twice = install(once, { alias: 'box', profile: 'p2', port: 2222 });
    assert.notEqual(twice.match(/checksum ([0-9a-f]{8})/)![1], once.match(/checksum ([0-9a-f]{8})/)![1]);
    assert.equal(uninstall(twice, 'box').text, SEED);
  });

  test('a marker from an older version (no checksum): removed when only our options are in it, refused otherwise', () => {
    const legacy = `${SEED}\n# added by ssm-proxy install-host\nHost box\n    HostName ${ID}\n    ProxyCommand ${SELF_PATH} connect ${ID} %p\n`;
    assert.equal(uninstall(legacy, 'box').text, SEED);
    const edited = legacy.replace('Host box\n', 'Host box box-alt\n');
    assert.match(refusal(edited, 'box'), /its Host line now reads 'Host box box-alt'/);
    const comment = legacy.replace('Host box\n', 'Host box\n    # mine\n');
    assert.match(refusal(comment, 'box'), /line \d+ '# mine' was added/);
  });
});

describe('uninstall of a rewritten block', () => {
  test('a replaced line edited by hand since: refused naming it; --force puts the original back', () => {
    const installed = install(SEED, { alias: 'web', target: ID, user: 'ec2-user' });
    const edited = installed.replace('    User ec2-user\n', '    User root\n');
    assert.match(refusal(edited, 'web'), /^cfg: a line install-host set in Host web was edited since install-host wrote it \(line \d+ 'User root' was changed\)/);
    assert.equal(uninstall(edited, 'web', true).text, SEED);
  });

  test('an added line edited by hand since: refused', () => {
    const installed = install(SEED, { alias: 'web', target: ID, port: 2222 });
    const edited = installed.replace('    Port 2222\n', '    Port 2223\n');
    assert.match(refusal(edited, 'web'), /'Port 2223' was changed/);
  });

  test('lines the user added elsewhere in the block are kept, without complaint', () => {
    const installed = install(SEED, { alias: 'web', target: ID });
    const edited = installed.replace('    User admin\n', '    User admin\n    ForwardAgent yes\n');
    assert.equal(uninstall(edited, 'web').text, SEED.replace('    User admin\n', '    User admin\n    ForwardAgent yes\n'));
  });

  test('an older replaced marker (no checksum) whose next line is now another option: refused', () => {
    const legacy = `Host web\n    # ssm-proxy install-host replaced: User admin\n    ForwardAgent yes\n`;
    assert.match(refusal(legacy, 'web'), /'ForwardAgent yes' was changed/);
  });

  test('re-installing a replaced line refreshes its checksum and keeps the original', () => {
    const once = install(SEED, { alias: 'web', target: ID, user: 'u1' });
    const twice = install(once, { alias: 'web', user: 'u2' });
    assert.equal(twice.split('install-host replaced').length, 3, 'one marker per replaced line (HostName, User)');
    assert.match(twice, /replaced \(checksum [0-9a-f]{8}\): User admin\n    User u2\n/);
    assert.equal(uninstall(twice, 'web').text, SEED);
  });
});

describe('%h and %n: one resolution for install-host, list-hosts and doctor', () => {
  test('the resolver follows ssh_config(5)', () => {
    assert.equal(resolveProxyTarget('%n', { alias: 'box', hostName: ID }), 'box');
    assert.equal(resolveProxyTarget('%h', { alias: 'box', hostName: ID }), ID);
    assert.equal(resolveProxyTarget('%h', { alias: ID, hostName: undefined }), ID);
    assert.equal(resolveProxyTarget('%h', { alias: 'i-0123', hostName: '%h456789abcdef0' }), 'i-0123456789abcdef0');
    assert.equal(resolveProxyTarget('%h', { alias: undefined, hostName: undefined }), undefined);
    assert.equal(resolveProxyTarget('i-%%x', { alias: 'a', hostName: undefined }), 'i-%x');
    assert.equal(resolveProxyTarget('%r', { alias: 'a', hostName: 'b' }), undefined);
    assert.equal(resolveProxyTarget(ID, { alias: 'a', hostName: 'b' }), ID);
  });

  // `--target %n` on a host named like an instance, and `%h` from a HostName set in a later
  // `Host *` section: before, list-hosts showed '%n' / '%h' and doctor '%n' while install-host
  // resolved both.
  const config = [
    `Host ${ID}`,
    `    ProxyCommand ${SELF_PATH} connect %n %p --profile p`,
    'Host db',
    `    ProxyCommand ${SELF_PATH} connect %h %p --profile p`,
    'Host db',
    '    HostName i-0fedcba9876543210',
    '',
  ].join('\n');

  test('list-hosts and install-host agree', () => {
    const listed = listSsmHosts(parse(config), SELF);
    assert.deepEqual(listed.map((h) => h.target), [ID, 'i-0fedcba9876543210']);
    for (const [alias, target] of [[ID, ID], ['db', 'i-0fedcba9876543210']] as const) {
      const plan = planInstall(parse(config), { alias, self: SELF });
      assert.equal(plan.settings.target, target);
    }
  });

  test('doctor agrees, reading the config install-host edits under $HOME', async () => {
    const home = await tempHome();
    await fs.mkdir(path.join(home, '.ssh'));
    await fs.writeFile(path.join(home, '.ssh', 'config'), config);
    const saved = process.env.HOME;
    process.env.HOME = home;
    try {
      for (const [alias, target] of [[ID, ID], ['db', 'i-0fedcba9876543210']] as const) {
        const { result, settings } = await checkSshConfig(alias, undefined);
        assert.equal(settings.target, target, JSON.stringify(result));
      }
    } finally {
      process.env.HOME = saved;
    }
  });
});

describe("doctor's ssh side", () => {
  test('right after install-host with HOME elsewhere, doctor finds the ProxyCommand', async () => {
    const home = await tempHome();
    await installHost({ alias: 'box', target: ID, profile: 'dev', home, self: SELF, ssh: null, out: () => undefined });
    const saved = process.env.HOME;
    process.env.HOME = home;
    try {
      const { result, settings } = await checkSshConfig('box', undefined);
      assert.equal(result.status, 'ok', JSON.stringify(result));
      assert.deepEqual(settings, { hostname: ID, target: ID, profile: 'dev', port: 22 });
    } finally {
      process.env.HOME = saved;
    }
  });

  test("doctor '*' does not suggest install-host '*'", async () => {
    const home = await tempHome();
    const file = path.join(home, 'config');
    await fs.writeFile(file, 'Host *\n    User me\n');
    const { result } = await checkSshConfig('*', file);
    assert.equal(result.status, 'fail');
    assert.doesNotMatch(JSON.stringify(result), /install-host \*/);
    assert.match(JSON.stringify(result), /install-host <the name you type after ssh>/);
  });

  test('a missing config is named, with the install-host fix', async () => {
    const home = await tempHome();
    const { result } = await checkSshConfig('box', path.join(home, 'nope'));
    assert.equal(result.status, 'fail');
    assert.match(JSON.stringify(result), /nope does not exist.*install-host box --target/);
  });

  test('escape sequences in the alias and the config are shown escaped', async () => {
    const home = await tempHome();
    const file = path.join(home, 'config');
    await fs.writeFile(file, 'Host *\n    ProxyCommand nc \x1b[2J %h %p\n');
    const { result } = await checkSshConfig('x\x1b]0;t\x07', file);
    assert.ok(!JSON.stringify(result).includes('\\u001b'), JSON.stringify(result));
  });
});

describe('connection sharing as list-hosts reads it', () => {
  test('ControlMaster no and false (any case) are off; yes, auto, ask, autoask are on', () => {
    const proxy = `  ProxyCommand ${SELF.join(' ')} connect ${ID} %p`;
    const values = ['no', 'NO', 'false', 'False', 'yes', 'auto', 'ask', 'autoask'];
    const config = values.map((value, i) => [`Host h${i}`, proxy, `  ControlMaster ${value}`, ''].join('\n')).join('\n');
    const listed = listSsmHosts(parse(config), SELF);
    assert.deepEqual(
      listed.map((host) => host.sharing?.controlMaster ?? 'off'),
      ['off', 'off', 'off', 'off', 'yes', 'auto', 'ask', 'autoask'],
    );
  });
});
