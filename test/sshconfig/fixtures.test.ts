/**
 * The corpus: every fixture goes through install-host (the library, HOME pointed at a temp dir)
 * and must keep untouched lines byte-identical, satisfy the real ssh -G, be idempotent, keep a
 * backup and the file mode, and come back out with uninstall-host.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { installHost } from '../../src/sshconfig/install.js';
import { uninstallHost } from '../../src/sshconfig/uninstall.js';
import { CASES, type FixtureCase } from './cases.js';
import {
  FIXTURES,
  SELF,
  backupsOf,
  expectedProxyCommand,
  lineOffset,
  modeOf,
  sshG,
  sshGRaw,
  sshPath,
  tempHome,
} from './helpers.js';

const quiet = () => undefined;

/** Lays the case out in a fresh temp HOME; returns the config path install-host will use. */
async function arrange(c: FixtureCase): Promise<{ home: string; config: string; original: Buffer | null }> {
  const home = await tempHome();
  const sshDir = path.join(home, '.ssh');
  const config = path.join(sshDir, 'config');
  if (c.setup === 'missing-ssh-dir') return { home, config, original: null };
  await fs.mkdir(sshDir, { mode: 0o700 });
  if (c.setup === 'missing-file') return { home, config, original: null };
  const original = await fs.readFile(path.join(FIXTURES, c.fixture!));
  if (c.setup === 'symlink') {
    const target = path.join(home, 'dotfiles', 'ssh_config');
    await fs.mkdir(path.dirname(target));
    await fs.writeFile(target, original, { mode: 0o600 });
    await fs.symlink('../dotfiles/ssh_config', config);
  } else {
    await fs.writeFile(config, original, { mode: c.mode ?? 0o600 });
    await fs.chmod(config, c.mode ?? 0o600);
  }
  return { home, config, original };
}

describe('install-host over the fixture corpus', () => {
  test('the corpus has at least 30 fixture files, all used', async () => {
    const files = (await fs.readdir(FIXTURES)).filter((f) => f.endsWith('.conf'));
    assert.ok(files.length >= 30, `only ${files.length} fixtures`);
    const used = new Set(CASES.map((c) => c.fixture).filter(Boolean));
    assert.deepEqual(files.filter((f) => !used.has(f)), []);
  });

  for (const c of CASES) {
    const name = c.fixture ?? c.setup!;
    test(name, async () => {
      const { home, config, original } = await arrange(c);
      const realFile = c.setup === 'symlink' ? path.join(home, 'dotfiles', 'ssh_config') : config;
      const before = new Map<string, string>();
      for (const other of c.others ?? []) before.set(other, sshGRaw(realFile, other));

      const run = () => installHost({ alias: c.alias, ...c.flags, home, self: SELF, ssh: sshPath(), out: quiet });
      const first = await run();
      assert.equal(first.changed, true);
      assert.equal(first.verified, true);
      const after = await fs.readFile(realFile);
      const orig = original ?? Buffer.alloc(0);

      // 1. Lines outside the edited block are byte-identical: same prefix, same suffix.
      let from: number;
      let to: number;
      if (c.touches) {
        from = lineOffset(orig, c.touches[0]);
        to = lineOffset(orig, c.touches[1] + 1);
      } else {
        from = lineOffset(orig, c.insertsAt!);
        to = from;
      }
      const prefix = orig.subarray(0, from);
      const suffix = orig.subarray(to);
      assert.ok(after.length >= prefix.length + suffix.length, 'file shrank');
      assert.deepEqual(after.subarray(0, prefix.length), prefix, 'bytes before the edit changed');
      assert.deepEqual(after.subarray(after.length - suffix.length), suffix, 'bytes after the edit changed');
      const middle = after.subarray(prefix.length, after.length - suffix.length).toString('utf8');
      if (c.insertsAt !== undefined) {
        assert.match(middle, /# added by ssm-proxy install-host \(checksum [0-9a-f]{8}\)\r?\nHost (\S+)\r?\n/);
        assert.ok(middle.includes(`Host ${c.alias}`));
      }
      for (const text of c.contains ?? []) assert.ok(after.toString('utf8').includes(text), `missing ${JSON.stringify(text)}`);
      if (c.crlf) assert.doesNotMatch(after.toString('latin1'), /[^\r]\n/, 'a bare LF in a CRLF file');
      else assert.doesNotMatch(after.toString('latin1'), /\r/, 'a CR in an LF file');

      // 2. The real OpenSSH reads it as intended.
      const g = sshG(realFile, c.alias);
      assert.equal(g.get('hostname')?.[0], c.want.target);
      assert.equal(g.get('proxycommand')?.[0], expectedProxyCommand(c.want));
      if (c.want.user !== undefined) assert.equal(g.get('user')?.[0], c.want.user);
      assert.equal(g.get('port')?.[0], String(c.want.port ?? 22));
      if (c.flags.identityFile) assert.ok(g.get('identityfile')!.some((f) => f.endsWith('/.ssh/new key.pem')));
      for (const [other, output] of before) assert.equal(sshGRaw(realFile, other), output, `ssh -G ${other} changed`);

      // 3. Backup of the original bytes, same mode; the file keeps its mode (0600 when new).
      const backups = await backupsOf(config);
      if (original === null) {
        assert.deepEqual(backups, []);
        assert.equal(await modeOf(config), 0o600);
        assert.equal(await modeOf(path.dirname(config)), 0o700);
      } else {
        assert.equal(backups.length, 1);
        assert.deepEqual(await fs.readFile(backups[0]!), original);
        assert.equal(await modeOf(backups[0]!), c.mode ?? 0o600);
        assert.equal(await modeOf(realFile), c.mode ?? 0o600);
      }
      if (c.setup === 'symlink') {
        assert.ok((await fs.lstat(config)).isSymbolicLink(), 'the symlink was replaced by a file');
        assert.equal(await fs.readlink(config), '../dotfiles/ssh_config');
      }

      // 4. A second identical run changes nothing and makes no new backup.
      const second = await run();
      assert.equal(second.changed, false);
      assert.deepEqual(await fs.readFile(realFile), after);
      assert.equal((await backupsOf(config)).length, backups.length);

      // 5. uninstall-host takes back what was written.
      const removed = await uninstallHost({ alias: c.alias, home, out: quiet, backup: false });
      assert.notEqual(removed.action, 'nothing');
      const restored = await fs.readFile(realFile);
      if (c.uninstallExact === false) {
        const eol = c.crlf ? '\r\n' : '\n';
        assert.deepEqual(restored, Buffer.concat([orig, Buffer.from(eol)]));
      } else {
        assert.deepEqual(restored, orig);
      }
      await fs.rm(home, { recursive: true, force: true });
    });
  }
});
