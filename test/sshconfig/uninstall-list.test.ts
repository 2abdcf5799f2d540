/** uninstall-host beyond the corpus round trips, and list-hosts (table and --json). */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { installHost } from '../../src/sshconfig/install.js';
import { listHosts } from '../../src/sshconfig/list-hosts.js';
import { uninstallHost } from '../../src/sshconfig/uninstall.js';
import { ID } from './cases.js';
import { CLI, FIXTURES, SELF, SELF_PATH, backupsOf, sshPath, tempHome } from './helpers.js';

const quiet = () => undefined;

async function configIn(text: string | Buffer): Promise<{ home: string; config: string; original: Buffer }> {
  const home = await tempHome();
  const config = path.join(home, 'ssh_config');
  const original = Buffer.isBuffer(text) ? text : Buffer.from(text);
  await fs.writeFile(config, original, { mode: 0o600 });
  return { home, config, original };
}

describe('uninstall-host', () => {
  test('several installs with changing profiles still uninstall to the original bytes', async () => {
    const { home, config, original } = await configIn(await fs.readFile(path.join(FIXTURES, '07-trailing-comments.conf')));
    const install = (flags: object) => installHost({ alias: 'jumphost-ssm', config, home, self: SELF, ssh: sshPath(), out: quiet, ...flags });
    await install({ profile: 'one', user: 'u1' });
    await install({ profile: 'two', user: 'u2', port: 2200 });
    const text = await fs.readFile(config, 'utf8');
    assert.equal(text.split(/# ssm-proxy install-host replaced \(checksum [0-9a-f]{8}\): ProxyCommand/).length, 2, 'one marker per replaced line, not one per run');
    assert.match(text, /--profile two/);
    await uninstallHost({ alias: 'jumphost-ssm', config, home, out: quiet });
    assert.deepEqual(await fs.readFile(config), original);
    assert.equal((await backupsOf(config)).length, 3, 'each change kept a backup');
  });

  test("a hand-written ssm-proxy block (no markers) is not install-host's to remove", async () => {
    const text = `Host mine\n    HostName ${ID}\n    ProxyCommand /usr/local/bin/ssm-proxy connect ${ID} %p\n`;
    const { home, config, original } = await configIn(text);
    const lines: string[] = [];
    const r = await uninstallHost({ alias: 'mine', config, home, out: (t) => lines.push(t) });
    assert.equal(r.action, 'nothing');
    assert.match(lines.join(''), /nothing changed/);
    assert.deepEqual(await fs.readFile(config), original);
    assert.deepEqual(await backupsOf(config), []);
  });

  test('uninstall of a created block leaves the neighbouring shared block as it was', async () => {
    const { home, config, original } = await configIn(await fs.readFile(path.join(FIXTURES, '09-multi-pattern.conf')));
    await installHost({ alias: 'jumphost-alt', config, home, self: SELF, ssh: sshPath(), out: quiet, profile: 'x' });
    await installHost({ alias: 'jumphost-ssm', config, home, self: SELF, ssh: sshPath(), out: quiet, profile: 'y' });
    await uninstallHost({ alias: 'jumphost-alt', config, home, out: quiet });
    const text = await fs.readFile(config, 'utf8');
    assert.doesNotMatch(text, /Host jumphost-alt\n/);
    assert.match(text, /# added by ssm-proxy install-host \(checksum [0-9a-f]{8}\)\nHost jumphost-ssm\n/);
    await uninstallHost({ alias: 'jumphost-ssm', config, home, out: quiet });
    assert.deepEqual(await fs.readFile(config), original);
  });

  test('--dry-run shows the removal and writes nothing', async () => {
    const { home, config } = await configIn('Host web\n    HostName web.example.com\n');
    await installHost({ alias: 'box', target: ID, config, home, self: SELF, ssh: sshPath(), out: quiet, backup: false });
    const installed = await fs.readFile(config);
    const out: string[] = [];
    await uninstallHost({ alias: 'box', config, home, dryRun: true, out: (t) => out.push(t) });
    assert.deepEqual(await fs.readFile(config), installed);
    const removed = out.join('').split('\n').filter((l) => l.startsWith('-') && !l.startsWith('---'));
    assert.match(removed[1]!, /^-# added by ssm-proxy install-host \(checksum [0-9a-f]{8}\)$/);
    removed[1] = '-marker';
    assert.deepEqual(removed, ['-', '-marker', '-Host box', `-    HostName ${ID}`, `-    ProxyCommand "${SELF_PATH}" connect ${ID} %p`]);
  });
});

describe('list-hosts', () => {
  const config = [
    '# mixed',
    'Host jumphost-ssm',
    `    HostName ${ID}`,
    `    ProxyCommand sh -c "aws ssm start-session --target %h --region eu-west-2 --profile eoe-hie --document-name AWS-StartSSHSession --parameters 'portNumber=22'"`,
    'host i-* mi-*',
    `    ProxyCommand sh -c "aws ssm start-session --target %h --document-name AWS-StartSSHSession --parameters 'portNumber=%p'"`,
    'Host web',
    '    ProxyCommand nc %h %p',
    'Host box box2',
    `    ProxyCommand "${SELF_PATH}" connect i-0fedcba9876543210 %p --profile discovery-access --region eu-west-1`,
    'Host plain',
    '    User me',
    '',
  ].join('\n');

  test('--json lists every ssm-proxy and aws ssm block with target, profile and region', async () => {
    const { home, config: file } = await configIn(config);
    const out: string[] = [];
    await listHosts({ config: file, home, json: true, self: SELF, out: (t) => out.push(t) });
    assert.deepEqual(JSON.parse(out.join('')), [
      { patterns: ['jumphost-ssm'], line: 2, via: 'aws-ssm', target: ID, profile: 'eoe-hie', region: 'eu-west-2' },
      { patterns: ['i-*', 'mi-*'], line: 5, via: 'aws-ssm', target: '%h' },
      { patterns: ['box', 'box2'], line: 9, via: 'ssm-proxy', target: 'i-0fedcba9876543210', profile: 'discovery-access', region: 'eu-west-1' },
    ]);
  });

  test('the CLI prints a table, and --json; a missing config lists nothing', async () => {
    const { home, config: file } = await configIn(config);
    const env = { PATH: process.env.PATH ?? '', HOME: home };
    const table = spawnSync(process.execPath, [CLI, 'list-hosts', '--config', file], { encoding: 'utf8', env });
    assert.equal(table.status, 0, table.stderr);
    const rows = table.stdout.trimEnd().split('\n');
    assert.match(rows[0]!, /^HOST\s+VIA\s+TARGET\s+PROFILE\s+REGION\s+SHARING\s+COMPRESSION\s+LINE$/);
    assert.equal(rows.length, 4);
    assert.match(rows[3]!, /^box box2\s+ssm-proxy\s+i-0fedcba9876543210\s+discovery-access\s+eu-west-1\s+-\s+-\s+9$/);
    const json = spawnSync(process.execPath, [CLI, 'list-hosts', '--json'], { encoding: 'utf8', env });
    assert.equal(json.status, 0, json.stderr);
    assert.deepEqual(JSON.parse(json.stdout), []);
  });

  test('an unparseable config is refused with exit 3', async () => {
    const { home, config: file } = await configIn('Host a\n  ProxyCommand sh -c "oops\n');
    const r = spawnSync(process.execPath, [CLI, 'list-hosts', '--config', file], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HOME: home } });
    assert.equal(r.status, 3);
    assert.match(r.stderr, /^ssm-proxy: [^\n]*line 2: unbalanced quotes[^\n]*\n$/);
  });
});
