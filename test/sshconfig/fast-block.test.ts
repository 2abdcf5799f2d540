/** The fast block's planning: written where the user set nothing, ours updated or removed, undone by uninstall. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { planInstall, type FastOptions, type InstallRequest } from '../../src/sshconfig/install-plan.js';
import { controlPathFor } from '../../src/sshconfig/install.js';
import { joinLines, splitLines } from '../../src/sshconfig/lines.js';
import { parseConfig } from '../../src/sshconfig/locate.js';
import { planUninstall } from '../../src/sshconfig/uninstall-plan.js';
import { checkControlPersist } from '../../src/sshconfig/validate.js';
import { ID } from './cases.js';
import { SELF } from './helpers.js';

const parse = (text: string) => parseConfig(splitLines(Buffer.from(text)), 'cfg');
const FAST: FastOptions = { sharing: { controlPath: '~/.ssh/cm-%C', controlPersist: '10m' }, compression: true };
const install = (text: string, request: Omit<InstallRequest, 'self'>) => joinLines(planInstall(parse(text), { ...request, self: SELF }).lines).toString();
const uninstall = (text: string, alias: string) => joinLines(planUninstall(parse(text), alias).lines).toString();
const FAST_LINES = '    ControlMaster auto\n    ControlPath ~/.ssh/cm-%C\n    ControlPersist 10m\n    Compression yes\n';

describe('the fast block', () => {
  test('a new block gets all four options; uninstall takes them back', () => {
    const seed = 'Host web\n    User me\n';
    const text = install(seed, { alias: 'box', target: ID, fast: FAST });
    assert.ok(text.includes(`%p\n${FAST_LINES}`), text);
    assert.equal(uninstall(text, 'box'), seed);
  });

  test("never over the user's value for the host: a later Host * with Compression no, a global ControlPersist", () => {
    const seed = 'ControlPersist 1h\n\nHost *\n    Compression no\n';
    const text = install(seed, { alias: 'box', target: ID, fast: FAST });
    assert.match(text, /ControlMaster auto\n    ControlPath ~\/\.ssh\/cm-%C\n\nHost \*/);
    assert.doesNotMatch(text, /ControlPersist 10m|Compression yes/);
  });

  test("the user's line in the alias's own block stays as it is", () => {
    const seed = 'Host box\n    HostName i-0fedcba9876543210\n    ControlMaster no\n';
    const text = install(seed, { alias: 'box', target: ID, fast: FAST });
    assert.match(text, /\n    ControlMaster no\n/);
    assert.doesNotMatch(text, /ControlMaster auto/);
    assert.match(text, /# ssm-proxy install-host added the next line \(checksum [0-9a-f]{8}\)\n    Compression yes\n/);
  });

  test('an existing block: each option added under its own marker; opting out later removes exactly those', () => {
    const seed = 'Host box\n    HostName i-0fedcba9876543210\n    User me\n';
    const once = install(seed, { alias: 'box', target: ID, fast: FAST });
    assert.equal(once.split('install-host added the next line').length, 6, once); // ProxyCommand + 4
    const longer = install(once, { alias: 'box', fast: { ...FAST, sharing: { controlPath: '~/.ssh/cm-%C', controlPersist: '1h' } } });
    assert.match(longer, /added the next line \(checksum [0-9a-f]{8}\)\n    ControlPersist 1h\n/);
    const off = install(longer, { alias: 'box', fast: { sharing: null, compression: false } });
    assert.doesNotMatch(off, /Control|Compression/);
    assert.equal(uninstall(off, 'box'), seed);
    assert.equal(uninstall(longer, 'box'), seed);
  });

  test('a created block: --no-compression later drops our line and the checksum follows', () => {
    const once = install('', { alias: 'box', target: ID, fast: FAST });
    const off = install(once, { alias: 'box', fast: { ...FAST, compression: false } });
    assert.doesNotMatch(off, /Compression/);
    assert.notEqual(off.match(/checksum (\w+)/)![1], once.match(/checksum (\w+)/)![1]);
    assert.equal(uninstall(off, 'box'), '');
  });

  test('a created block the user edited: its fast lines are no longer ours to change', () => {
    const once = install('', { alias: 'box', target: ID, fast: FAST });
    const edited = once.replace('    Compression yes\n', '    Compression yes\n    ForwardAgent yes\n');
    const off = install(edited, { alias: 'box', fast: { sharing: null, compression: false } });
    assert.equal(off, edited);
  });

  test('ControlPath fits a socket path (macOS: 104 bytes with ssh\'s temporary suffix), or sharing is left out', () => {
    assert.equal(controlPathFor('/srv/alice'), '/srv/alice/.ssh/cm-%C');
    assert.equal(controlPathFor('/srv/50%'), '/srv/50%%/.ssh/cm-%C');
    assert.equal(controlPathFor(`/home/${'a'.repeat(40)}`), undefined);
  });

  test('--control-persist takes what ssh takes', () => {
    for (const ok of ['10m', '600', '1h30m', 'yes', 'no', '0']) checkControlPersist(ok);
    for (const bad of ['', '10 m', '-1', '1y', 'forever', '10m\nHost *']) assert.throws(() => checkControlPersist(bad), /--control-persist/);
  });
});
