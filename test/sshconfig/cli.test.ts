/**
 * The real CLI (`node lib/cli/main.js`, built by `pretest`): exit codes, one-line errors, the
 * file left byte-identical on every refusal, --dry-run, --no-backup, and the self path it writes.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { ID } from './cases.js';
import { CLI, FIXTURES, SELF_PATH, backupsOf, expectedProxyCommand, lineOffset, modeOf, sshG, tempHome } from './helpers.js';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], home: string, env: Record<string, string> = { SSM_PROXY_SELF: SELF_PATH }, prefix: string[] = []): Run {
  const r = spawnSync(prefix[0] ?? process.execPath, [...prefix.slice(1), ...(prefix.length ? [process.execPath] : []), CLI, ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A temp HOME whose ~/.ssh/config is the given fixture (0600). */
async function homeWith(fixture: string | Buffer): Promise<{ home: string; config: string; original: Buffer }> {
  const home = await tempHome();
  await fs.mkdir(path.join(home, '.ssh'), { mode: 0o700 });
  const config = path.join(home, '.ssh', 'config');
  const original = typeof fixture === 'string' ? await fs.readFile(path.join(FIXTURES, fixture)) : fixture;
  await fs.writeFile(config, original, { mode: 0o600 });
  return { home, config, original };
}

/** The refusal contract: the exit code, exactly one stderr line, no stdout, the file untouched. */
async function assertRefused(r: Run, code: number, pattern: RegExp, config: string, original: Buffer | null): Promise<void> {
  assert.equal(r.code, code, `exit ${r.code}, stderr: ${r.stderr}`);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^ssm-proxy: [^\n]+\n$/, `not one line: ${JSON.stringify(r.stderr)}`);
  assert.match(r.stderr, pattern);
  if (original === null) {
    await assert.rejects(fs.stat(config));
  } else {
    assert.deepEqual(await fs.readFile(config), original);
    assert.deepEqual(await backupsOf(config), []);
    const leftovers = (await fs.readdir(path.dirname(config))).filter((n) => n.endsWith('.tmp'));
    assert.deepEqual(leftovers, []);
  }
}

before(async () => {
  await fs.access(CLI).catch(() => {
    throw new Error(`${CLI} is missing: run npm run build (npm test does it in pretest)`);
  });
});

describe('install-host through the CLI', () => {
  test('the seed story: migrate the jumphost block from aws ssm to ssm-proxy with a new profile', async () => {
    const { home, config, original } = await homeWith('01-seed-jumphost.conf');
    const r = cli(['install-host', 'jumphost-ssm', '--profile', 'discovery-access'], home);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /updated Host jumphost-ssm .*migrated from aws ssm start-session \(line 6\).*checked with ssh -G/);
    const after = await fs.readFile(config);
    const cut = lineOffset(original, 6);
    const rest = lineOffset(original, 7);
    assert.deepEqual(after.subarray(0, cut), original.subarray(0, cut));
    assert.deepEqual(after.subarray(after.length - (original.length - rest)), original.subarray(rest));
    const g = sshG(config, 'jumphost-ssm');
    assert.equal(g.get('proxycommand')?.[0], expectedProxyCommand({ target: ID, profile: 'discovery-access', region: 'eu-west-2' }));
    assert.equal(g.get('hostname')?.[0], ID);
    assert.equal(g.get('user')?.[0], 'ec2-user');
    assert.equal((await backupsOf(config)).length, 1);

    // Again: nothing changes, no new backup, exit 0.
    const again = cli(['install-host', 'jumphost-ssm', '--profile', 'discovery-access'], home);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /nothing changed/);
    assert.deepEqual(await fs.readFile(config), after);
    assert.equal((await backupsOf(config)).length, 1);

    // uninstall-host puts the aws ssm line back, byte for byte.
    const un = cli(['uninstall-host', 'jumphost-ssm', '--no-backup'], home);
    assert.equal(un.code, 0, un.stderr);
    assert.deepEqual(await fs.readFile(config), original);
    const none = cli(['uninstall-host', 'jumphost-ssm'], home);
    assert.equal(none.code, 0);
    assert.match(none.stdout, /nothing changed/);
  });

  test('missing ~/.ssh: created 0700 with a 0600 config, no backup', async () => {
    const home = await tempHome();
    const r = cli(['install-host', 'box', '--target', ID, '--region', 'eu-west-2', '--user', 'ec2-user', '--port', '2222'], home);
    assert.equal(r.code, 0, r.stderr);
    const config = path.join(home, '.ssh', 'config');
    assert.equal(await modeOf(path.join(home, '.ssh')), 0o700);
    assert.equal(await modeOf(config), 0o600);
    assert.deepEqual(await backupsOf(config), []);
    const g = sshG(config, 'box');
    assert.equal(g.get('proxycommand')?.[0], expectedProxyCommand({ target: ID, region: 'eu-west-2' }));
    assert.equal(g.get('port')?.[0], '2222');
    assert.equal(g.get('user')?.[0], 'ec2-user');
  });

  test('without SSM_PROXY_SELF the ProxyCommand runs this node and the real path of the script', async () => {
    const { home, config } = await homeWith('20-global-directives.conf');
    // Call it through a symlink, as npm's bin shim does: the real path must be written.
    const bin = path.join(home, 'bin dir', 'ssm-proxy');
    await fs.mkdir(path.dirname(bin));
    await fs.symlink(CLI, bin);
    const r = spawnSync(process.execPath, [bin, 'install-host', 'box', '--target', ID, '--profile', 'p1'], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', HOME: home },
    });
    assert.equal(r.status, 0, r.stderr);
    const quote = (s: string) => (/\s/.test(s) ? `"${s}"` : s);
    assert.equal(sshG(config, 'box').get('proxycommand')?.[0], `${quote(process.execPath)} ${quote(await fs.realpath(CLI))} connect ${ID} %p --profile p1`);
  });

  test('--dry-run prints a unified diff and writes nothing', async () => {
    const { home, config, original } = await homeWith('01-seed-jumphost.conf');
    const r = cli(['install-host', 'jumphost-ssm', '--profile', 'discovery-access', '--dry-run', '--no-connection-sharing', '--no-compression'], home);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n');
    assert.equal(lines[0], '--- ~/.ssh/config');
    assert.equal(lines[1], '+++ ~/.ssh/config');
    assert.equal(lines[2], '@@ -3,7 +3,8 @@'); // 3 lines of context around line 6
    assert.ok(lines.includes(`-    ProxyCommand sh -c "aws ssm start-session --target %h --region eu-west-2 --profile eoe-hie --document-name AWS-StartSSHSession --parameters 'portNumber=22'"`));
    assert.ok(lines.includes(`+    ProxyCommand ${expectedProxyCommand({ target: ID, profile: 'discovery-access', region: 'eu-west-2' })}`));
    assert.equal(lines.filter((l) => l.startsWith('+') && !l.startsWith('+++')).length, 2);
    assert.equal(lines.filter((l) => l.startsWith('-') && !l.startsWith('---')).length, 1);
    assert.deepEqual(await fs.readFile(config), original);
    assert.deepEqual(await fs.readdir(path.dirname(config)), ['config']);
  });

  test('--dry-run with no ~/.ssh creates nothing', async () => {
    const home = await tempHome();
    const r = cli(['install-host', 'box', '--target', ID, '--dry-run', '--no-connection-sharing', '--no-compression'], home);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^--- \/dev\/null\n\+\+\+ ~\/\.ssh\/config\n@@ -0,0 \+1,4 @@\n\+# added by ssm-proxy install-host \(checksum [0-9a-f]{8}\)\n\+Host box\n/);
    assert.deepEqual(await fs.readdir(home), []);
  });

  test('--no-backup changes the file without a backup', async () => {
    const { home, config, original } = await homeWith('18-host-star-last.conf');
    const r = cli(['install-host', 'box', '--target', ID, '--no-backup'], home);
    assert.equal(r.code, 0, r.stderr);
    assert.notDeepEqual(await fs.readFile(config), original);
    assert.deepEqual(await backupsOf(config), []);
  });

  test('--config edits that file and not ~/.ssh/config', async () => {
    const home = await tempHome();
    const other = path.join(home, 'elsewhere', 'ssh_config');
    await fs.mkdir(path.dirname(other));
    const r = cli(['install-host', 'box', '--target', ID, '--config', other], home);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(sshG(other, 'box').get('hostname')?.[0], ID);
    await assert.rejects(fs.stat(path.join(home, '.ssh')));
  });
});

describe('bad input: one line, non-zero exit, file untouched', () => {
  test('unbalanced quotes in the config (exit 3, names the line)', async () => {
    const text = Buffer.from('Host a\n    User "alice\nHost jumphost-ssm\n    HostName i-0123456789abcdef0\n');
    const { home, config, original } = await homeWith(text);
    const r = cli(['install-host', 'jumphost-ssm', '--target', ID], home);
    await assertRefused(r, 3, /line 2: unbalanced quotes/, config, original);
  });

  for (const target of ['i-123', 'i-0123456789ABCDEF0', 'i-0123456789abcdef', 'mi-0123456789abcdef', 'sg-0123456789abcdef0', 'ecs:foo']) {
    test(`invalid target ${target} (exit 2)`, async () => {
      const { home, config, original } = await homeWith('01-seed-jumphost.conf');
      const r = cli(['install-host', 'jumphost-ssm', '--target', target], home);
      await assertRefused(r, 2, /target .* is not valid: expected an EC2 instance id/, config, original);
    });
  }

  for (const alias of ['web*', 'jump?', '!jump', 'a,b', 'bad alias', 'x;rm']) {
    test(`alias ${JSON.stringify(alias)} is refused (exit 2)`, async () => {
      const { home, config, original } = await homeWith('01-seed-jumphost.conf');
      const r = cli(['install-host', alias, '--target', ID], home);
      await assertRefused(r, 2, /alias/, config, original);
    });
  }

  test('a new alias with no target anywhere (exit 2)', async () => {
    const { home, config, original } = await homeWith('18-host-star-last.conf');
    const r = cli(['install-host', 'box'], home);
    await assertRefused(r, 2, /no target known for 'box'; pass --target/, config, original);
  });

  test('bad region, port and profile (exit 2)', async () => {
    const { home, config, original } = await homeWith('18-host-star-last.conf');
    await assertRefused(cli(['install-host', 'box', '--target', ID, '--region', 'Europe'], home), 2, /region 'Europe'/, config, original);
    await assertRefused(cli(['install-host', 'box', '--target', ID, '--port', '70000'], home), 2, /port '70000'/, config, original);
    await assertRefused(cli(['install-host', 'box', '--target', ID, '--port', '22x'], home), 2, /port '22x'/, config, original);
    await assertRefused(cli(['install-host', 'box', '--target', ID, '--profile', 'a b'], home), 2, /profile 'a b'/, config, original);
  });

  test('an alias block with ProxyJump (exit 3)', async () => {
    const text = Buffer.from('Host jumphost-ssm\n    HostName i-0123456789abcdef0\n    ProxyJump bastion\n');
    const { home, config, original } = await homeWith(text);
    await assertRefused(cli(['install-host', 'jumphost-ssm'], home), 3, /line 3: .*ProxyJump/, config, original);
  });

  test('ssh -G disagrees (an earlier Host * sets ProxyCommand): exit 3, file untouched, no backup', async () => {
    const text = Buffer.from('Host *\n    ProxyCommand nc %h %p\n\nHost jumphost-ssm\n    HostName i-0123456789abcdef0\n    User ec2-user\n');
    const { home, config, original } = await homeWith(text);
    const r = cli(['install-host', 'jumphost-ssm', '--profile', 'p1'], home);
    await assertRefused(r, 3, /ssh -G jumphost-ssm says proxycommand is 'nc %h %p', not '.*'.*left unchanged/, config, original);
  });

  test('config path is a directory (exit 9)', async () => {
    const home = await tempHome();
    const dir = path.join(home, 'adir');
    await fs.mkdir(dir);
    const r = cli(['install-host', 'box', '--target', ID, '--config', dir], home);
    assert.equal(r.code, 9, r.stderr);
    assert.match(r.stderr, /^ssm-proxy: [^\n]*not a regular file[^\n]*\n$/);
    assert.deepEqual(await fs.readdir(dir), []);
  });

  test('unwritable directory (exit 9)', async () => {
    const home = await tempHome();
    const dir = path.join(home, 'locked');
    await fs.mkdir(dir);
    const config = path.join(dir, 'config');
    const original = await fs.readFile(path.join(FIXTURES, '18-host-star-last.conf'));
    await fs.writeFile(config, original, { mode: 0o644 });
    await fs.chmod(dir, 0o555);
    await fs.chmod(home, 0o755);
    // root ignores permission bits: run the CLI as nobody then.
    const asNobody = process.getuid?.() === 0 ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'] : [];
    const r = cli(['install-host', 'box', '--target', ID, '--config', config], home, { SSM_PROXY_SELF: SELF_PATH }, asNobody);
    assert.equal(r.code, 9, r.stderr);
    assert.match(r.stderr, /^ssm-proxy: cannot write in .*locked: permission denied[^\n]*\n$/);
    assert.deepEqual(await fs.readFile(config), original);
    assert.deepEqual(await fs.readdir(dir), ['config']);
  });
});
