/**
 * Hostile and careless input against install-host, uninstall-host and list-hosts: each case in
 * its own throwaway HOME, through the built CLI. Refusals: documented exit code, one stderr line,
 * no stack trace, nothing on disk changed (sha256 of every file, and no new file).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  CLI,
  ID,
  SSH_SEED,
  assertRefused,
  assertUntouched,
  homeWithSshConfig,
  run,
  snapshot,
  throwawayHome,
} from './files-harness.js';

const homes: string[] = [];
const track = <T extends { home: string }>(h: T): T => {
  homes.push(h.home);
  return h;
};

before(async () => {
  await fs.access(CLI).catch(() => {
    throw new Error(`${CLI} is missing: run npm run build (npm test does it in pretest)`);
  });
});
after(async () => {
  for (const home of homes) await fs.rm(home, { recursive: true, force: true }).catch(() => undefined);
});

/** A case: run `args` against a HOME with the seed config; expect a refusal and no change. */
async function refused(args: string[], code: number, pattern: RegExp, env: Record<string, string> = {}): Promise<void> {
  const { home } = track(await homeWithSshConfig(SSH_SEED));
  const before = await snapshot(home);
  const r = await run(args, home, env);
  assertRefused(r, code, pattern);
  await assertUntouched(home, before);
}

describe('install-host: a value that would break its line is refused (exit 2)', () => {
  const cases: Array<[string, string[], RegExp, Record<string, string>?]> = [
    ['--identity-file with a newline and a Host line', ['install-host', 'box', '--target', ID, '--identity-file', '/k\nHost *\n  ProxyCommand sh -c id'], /identity file '\/k\\x0aHost \*\\x0a.*control character \\x0a/],
    ['--identity-file with a carriage return', ['install-host', 'box', '--target', ID, '--identity-file', '/k\r'], /identity file .*\\x0d/],
    ['--identity-file with an escape sequence', ['install-host', 'box', '--target', ID, '--identity-file', '/k\x1b]0;pwned\x07'], /control character \\x1b/],
    ['--identity-file empty', ['install-host', 'box', '--target', ID, '--identity-file', ''], /identity file '' .*empty/],
    ['--user with a newline', ['install-host', 'box', '--target', ID, '--user', 'ec2-user\nMatch all'], /user 'ec2-user\\x0aMatch all'/],
    ['--user with a tab', ['install-host', 'box', '--target', ID, '--user', 'a\tb'], /user 'a\\x09b'/],
    ['--user that ssh would read as an option', ['install-host', 'box', '--target', ID, '--user=-oProxyCommand=id'], /user '-oProxyCommand=id' is not a plain login name/],
    ['--user starting with =', ['install-host', 'box', '--target', ID, '--user', '=root'], /user '=root' is not a plain login name/],
    ['alias with a newline', ['install-host', 'box\nHost *', '--target', ID], /alias 'box\\x0aHost \*'/],
    ['alias with an escape sequence', ['install-host', 'box\x1b[31m', '--target', ID], /alias 'box\\x1b\[31m' is not a plain host name/],
    ['--profile with a newline', ['install-host', 'box', '--target', ID, '--profile', 'dev\nHost *'], /profile 'dev\\x0aHost \*'/],
    ['--region with a newline', ['install-host', 'box', '--target', ID, '--region', 'eu-west-2\n'], /region 'eu-west-2\\x0a'/],
    ['--target with a newline', ['install-host', 'box', '--target', `${ID}\nHost *`], /target 'i-0123456789abcdef0\\x0aHost \*'/],
    ['--target with shell syntax', ['install-host', 'box', '--target', 'i-0123456789abcdef0;id'], /target 'i-0123456789abcdef0;id'/],
    ['the ssm-proxy path itself with a newline', ['install-host', 'box', '--target', ID], /the path of ssm-proxy '\/opt\/x\\x0aHost \*'/, { SSM_PROXY_SELF: '/opt/x\nHost *' }],
  ];
  for (const [name, args, pattern, env] of cases) test(name, () => refused(args, 2, pattern, env));

  test('uninstall-host with an escape sequence in the alias', () => refused(['uninstall-host', 'web\x1b[2J'], 2, /alias 'web\\x1b\[2J'/));
});

describe('install-host: odd values that are fine are written so ssh reads them back unchanged', () => {
  test("an identity file starting with '=' and one with spaces, quotes and '#'", async () => {
    for (const file of ['=key', '/home/me/my "odd" #key']) {
      const { home, config } = track(await homeWithSshConfig(SSH_SEED));
      const r = await run(['install-host', 'box', '--target', ID, '--identity-file', file], home);
      assert.equal(r.code, 0, r.stderr);
      const g = execFileSync('ssh', ['-G', '-F', config, 'box'], { encoding: 'utf8' });
      assert.ok(g.split('\n').includes(`identityfile ${file}`), g);
    }
  });
});

describe('install-host never creates directories outside ~/.ssh', () => {
  test('a dangling ~/.ssh/config symlink into a missing directory: exit 9, nothing created', async () => {
    const home = track({ home: await throwawayHome() }).home;
    await fs.mkdir(path.join(home, '.ssh'), { mode: 0o700 });
    const target = path.join(home, 'nonexistent', 'dir', 'config');
    await fs.symlink(target, path.join(home, '.ssh', 'config'));
    const before = await snapshot(home);
    const r = await run(['install-host', 'box', '--target', ID], home);
    assertRefused(r, 9, /~\/\.ssh\/config is a symbolic link to .*nonexistent\/dir\/config, but the directory .*nonexistent\/dir does not exist; .*nothing was created/);
    await assertUntouched(home, before);
  });

  test('--config in a missing directory: exit 9, the directory is not created', async () => {
    const home = track({ home: await throwawayHome() }).home;
    const before = await snapshot(home);
    const r = await run(['install-host', 'box', '--target', ID, '--config', path.join(home, 'a', 'b', 'config')], home);
    assertRefused(r, 9, /the directory .*\/a\/b does not exist/);
    await assertUntouched(home, before);
  });

  test('a dangling ~/.ssh symlink: exit 9, nothing created', async () => {
    const home = track({ home: await throwawayHome() }).home;
    await fs.symlink(path.join(home, 'gone'), path.join(home, '.ssh'));
    const before = await snapshot(home);
    const r = await run(['install-host', 'box', '--target', ID], home);
    assertRefused(r, 9, /\.ssh is a symbolic link to .*gone, which does not exist; .*nothing was created/);
    await assertUntouched(home, before);
  });
});

describe('install-host: files that are not configs', () => {
  test('a directory at ~/.ssh/config: exit 9', async () => {
    const home = track({ home: await throwawayHome() }).home;
    await fs.mkdir(path.join(home, '.ssh', 'config'), { recursive: true });
    const before = await snapshot(home);
    assertRefused(await run(['install-host', 'box', '--target', ID], home), 9, /not a regular file/);
    await assertUntouched(home, before);
  });

  test('a FIFO at ~/.ssh/config: exit 9 at once, no hang', async () => {
    const home = track({ home: await throwawayHome() }).home;
    await fs.mkdir(path.join(home, '.ssh'));
    execFileSync('mkfifo', [path.join(home, '.ssh', 'config')]);
    const before = await snapshot(home);
    for (const command of [['install-host', 'box', '--target', ID], ['list-hosts'], ['uninstall-host', 'box']]) {
      assertRefused(await run(command, home, {}, 20_000), 9, /not a regular file/);
    }
    await assertUntouched(home, before);
  });

  test('a config far larger than any config (sparse, 600 MiB): exit 3 without reading it', async () => {
    const { home, config } = track(await homeWithSshConfig(''));
    await fs.truncate(config, 600 * 2 ** 20);
    const before = await snapshot(home);
    assertRefused(await run(['install-host', 'box', '--target', ID], home), 3, /is 600 MiB, more than any config file should be/);
    await assertUntouched(home, before);
  });

  test('a keyword with an escape sequence and no argument: exit 3, the keyword escaped', async () => {
    const { home } = track(await homeWithSshConfig('Host a\n    Evil\x1b[2J\n'));
    const before = await snapshot(home);
    assertRefused(await run(['install-host', 'web', '--target', ID], home), 3, /line 2: no argument after keyword "evil\\x1b\[2j"/);
    await assertUntouched(home, before);
  });

  test('unbalanced quotes: exit 3 naming the line', async () => {
    const { home } = track(await homeWithSshConfig('Host a\n    User "x\n'));
    const before = await snapshot(home);
    assertRefused(await run(['install-host', 'web', '--target', ID], home), 3, /line 2: unbalanced quotes/);
    await assertUntouched(home, before);
  });
});

describe('the lock', () => {
  test('held by a live process: waits its bound, then exit 7 naming the holder; nothing changed', async () => {
    const { home, config } = track(await homeWithSshConfig(SSH_SEED));
    await fs.writeFile(`${config}.ssm-proxy.lock`, `pid ${process.pid} on host ${os.hostname()} since 2026-01-01T00:00:00.000Z\n`);
    const before = await snapshot(home);
    const started = Date.now();
    const r = await run(['install-host', 'box', '--target', ID], home, {}, 40_000);
    const waited = Date.now() - started;
    assertRefused(r, 7, new RegExp(`~/\\.ssh/config is being edited by another ssm-proxy \\(pid ${process.pid} .*gave up after 10 s .*delete .*config\\.ssm-proxy\\.lock if that process is gone`));
    assert.ok(waited >= 10_000, `gave up after ${waited} ms`);
    await assertUntouched(home, before);
  });

  test('left by a dead process: taken over, the edit lands, the lock is gone', async () => {
    const { home, config } = track(await homeWithSshConfig(SSH_SEED));
    const dead = execFileSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    await fs.writeFile(`${config}.ssm-proxy.lock`, `pid ${dead} on host ${os.hostname()} since 2026-01-01T00:00:00.000Z\n`);
    const r = await run(['install-host', 'box', '--target', ID], home, {}, 20_000);
    assert.equal(r.code, 0, r.stderr);
    assert.match(await fs.readFile(config, 'utf8'), /\nHost box\n/);
    await assert.rejects(fs.stat(`${config}.ssm-proxy.lock`));
  });
});

describe('leftovers', () => {
  test('a refused rename leaves no backup and no temp file behind (exit 9)', { skip: process.getuid?.() !== 0 && 'needs root to own the file as another user' }, async () => {
    // A sticky directory: nobody may create files in it but not replace root's file.
    const home = track({ home: await throwawayHome() }).home;
    await fs.chmod(home, 0o755);
    const dir = path.join(home, 'shared');
    await fs.mkdir(dir);
    await fs.chmod(dir, 0o1777);
    const config = path.join(dir, 'config');
    await fs.writeFile(config, SSH_SEED);
    await fs.chmod(config, 0o666);
    const before = await snapshot(home);
    const asNobody = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'];
    const r = await run(['install-host', 'box', '--target', ID, '--config', config], home, {}, 30_000, asNobody);
    assertRefused(r, 9, /cannot replace .*shared\/config: permission denied/);
    await assertUntouched(home, before);
  });

  test('temp files of dead writers are cleaned, live ones kept; five backups are kept', async () => {
    const { home, config } = track(await homeWithSshConfig(SSH_SEED));
    const dir = path.dirname(config);
    const dead = execFileSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const deadTemp = path.join(dir, `.config.ssm-proxy-${dead}-0badf00d.tmp`);
    const liveTemp = path.join(dir, `.config.ssm-proxy-${process.pid}-0badf00d.tmp`);
    await fs.writeFile(deadTemp, 'half a config');
    await fs.writeFile(liveTemp, 'being written');
    for (let k = 0; k < 8; k++) {
      const r = await run(['install-host', 'box', '--target', ID, '--port', String(2200 + k)], home);
      assert.equal(r.code, 0, r.stderr);
    }
    const names = await fs.readdir(dir);
    assert.ok(!names.includes(path.basename(deadTemp)), 'the dead writer\'s temp file is still there');
    assert.ok(names.includes(path.basename(liveTemp)), 'a live writer\'s temp file was removed');
    const backups = names.filter((n) => /^config\.ssm-proxy-\d{8}T\d{6}Z(-\d+)?\.bak$/.test(n));
    assert.equal(backups.length, 5, names.join(' '));
    // The newest backup holds the config before the last run (port 2206).
    const texts = await Promise.all(backups.map((b) => fs.readFile(path.join(dir, b), 'utf8')));
    assert.ok(texts.some((t) => t.includes('Port 2206')), 'the newest backup was pruned');
    assert.ok(!texts.some((t) => t.includes('Port 2200')), 'an old backup was kept');
    assert.deepEqual(names.filter((n) => n.endsWith('.lock')), []);
  });
});

describe('uninstall-host keeps hand edits', () => {
  test('alias added to the Host line, a LocalForward and a comment: exit 3 naming them, untouched', async () => {
    const { home, config } = track(await homeWithSshConfig(SSH_SEED));
    assert.equal((await run(['install-host', 'box', '--target', ID, '--no-backup'], home)).code, 0);
    const text = await fs.readFile(config, 'utf8');
    await fs.writeFile(
      config,
      text.replace('Host box\n', 'Host box box-alt\n    # my tunnel\n    LocalForward 5432 db:5432\n'),
    );
    const before = await snapshot(home);
    const r = await run(['uninstall-host', 'box'], home);
    assertRefused(r, 3, /Host box was edited since install-host wrote it \(its Host line now reads 'Host box box-alt'; line \d+ '# my tunnel' and 1 more were added\).*--force/);
    await assertUntouched(home, before);

    const forced = await run(['uninstall-host', 'box', '--force', '--no-backup'], home);
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stdout, /removed Host box \(--force: hand edits removed too/);
    assert.equal(await fs.readFile(config, 'utf8'), SSH_SEED);
  });

  test('a changed value in a created block: exit 3, untouched', async () => {
    const { home, config } = track(await homeWithSshConfig(SSH_SEED));
    assert.equal((await run(['install-host', 'box', '--target', ID, '--user', 'ec2-user', '--no-backup'], home)).code, 0);
    await fs.writeFile(config, (await fs.readFile(config, 'utf8')).replace('User ec2-user', 'User admin'));
    const before = await snapshot(home);
    assertRefused(await run(['uninstall-host', 'box'], home), 3, /Host box was edited since install-host wrote it \(lines \d+–\d+ were changed\)/);
    await assertUntouched(home, before);
  });

  test('a rewritten block whose replaced line was edited by hand since: exit 3, untouched', async () => {
    const { home, config } = track(await homeWithSshConfig(SSH_SEED));
    assert.equal((await run(['install-host', 'web', '--target', ID, '--user', 'ec2-user', '--no-backup'], home)).code, 0);
    await fs.writeFile(config, (await fs.readFile(config, 'utf8')).replace('    User ec2-user\n', '    User root\n'));
    const before = await snapshot(home);
    assertRefused(await run(['uninstall-host', 'web'], home), 3, /a line install-host set in Host web was edited since install-host wrote it \(line \d+ 'User root' was changed\)/);
    await assertUntouched(home, before);
  });
});

describe('list-hosts prints config text escaped', () => {
  test('an OSC title sequence and a CSI in Host and ProxyCommand lines come out as \\x escapes', async () => {
    const evil = `Host pwn\x1b]0;owned\x07\n    ProxyCommand ${'/opt/ssm-proxy/bin/ssm-proxy'} connect i-0123456789abcdef0\x1b[2J %p\n`;
    const { home } = track(await homeWithSshConfig(evil));
    const table = await run(['list-hosts'], home);
    assert.equal(table.code, 0, table.stderr);
    // eslint-disable-next-line no-control-regex
    assert.doesNotMatch(table.stdout.replace(/\n/g, ''), /[\x00-\x1f\x7f-\x9f]/);
    assert.match(table.stdout, /pwn\\x1b\]0;owned\\x07\s+ssm-proxy\s+i-0123456789abcdef0\\x1b\[2J/);
    const json = await run(['list-hosts', '--json'], home);
    assert.equal(json.code, 0, json.stderr);
    assert.ok(!json.stdout.includes('\x1b'));
    assert.equal(JSON.parse(json.stdout)[0].patterns[0], 'pwn\x1b]0;owned\x07');
  });

  test('--dry-run escapes a diff line that holds an escape sequence, and writes nothing', async () => {
    const evil = `Host box\n    # note\x1b]0;owned\x07\n    User me\n`;
    const { home } = track(await homeWithSshConfig(evil));
    const before = await snapshot(home);
    const r = await run(['install-host', 'box', '--target', ID, '--dry-run'], home);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!r.stdout.includes('\x1b'), 'a raw escape reached stdout');
    assert.match(r.stdout, /^     # note\\x1b\]0;owned\\x07$/m);
    await assertUntouched(home, before);
  });
});
