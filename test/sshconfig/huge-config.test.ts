/**
 * Configs far beyond any real one: 150 000+ lines, and 50 MB. install-host, uninstall-host and
 * list-hosts must work (before: a stack overflow past ~120 000 lines, 21 s and 2.1 GB for 50 MB)
 * in linear time and memory: the CLI runs with a 512 MB heap limit and a time bound.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { ID } from './cases.js';
import { CLI, SELF_PATH, tempHome } from './helpers.js';

const homes: string[] = [];
after(async () => {
  for (const home of homes) await fs.rm(home, { recursive: true, force: true });
});

/** `hosts` Host blocks of three lines; `pad` extra bytes on each User line. */
function bigConfig(hosts: number, pad: number): Buffer {
  const parts: Buffer[] = [];
  const filler = 'x'.repeat(pad);
  for (let i = 0; i < hosts; i++) {
    parts.push(Buffer.from(`Host h${i}\n    HostName 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}\n    User u${i}${filler}\n`));
  }
  return Buffer.concat(parts);
}

function cli(args: string[], home: string, timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--max-old-space-size=512', CLI, ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: home, SSM_PROXY_SELF: SELF_PATH },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${args[0]} took more than ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('huge configs', () => {
  for (const [name, hosts, pad, boundMs] of [
    ['150 000 lines', 50_000, 0, 30_000],
    ['50 MB (600 000 lines)', 200_000, 200, 60_000],
  ] as const) {
    test(`${name}: install-host, list-hosts and uninstall-host within bounds, bytes kept`, async () => {
      const home = await tempHome();
      homes.push(home);
      await fs.mkdir(path.join(home, '.ssh'));
      const config = path.join(home, '.ssh', 'config');
      const original = bigConfig(hosts, pad);
      await fs.writeFile(config, original, { mode: 0o600 });

      const added = await cli(['install-host', 'box', '--target', ID, '--no-backup'], home, boundMs);
      assert.equal(added.code, 0, added.stderr);
      assert.match(added.stdout, /added Host box .*checked with ssh -G/);
      const after = await fs.readFile(config);
      assert.deepEqual(after.subarray(0, original.length), original, 'the big file is a prefix, unchanged');
      assert.match(after.subarray(original.length).toString(), /^\n# added by ssm-proxy install-host \(checksum [0-9a-f]{8}\)\nHost box\n/);

      const listed = await cli(['list-hosts', '--json'], home, boundMs);
      assert.equal(listed.code, 0, listed.stderr);
      assert.deepEqual(JSON.parse(listed.stdout).map((h: { patterns: string[] }) => h.patterns), [['box']]);

      const removed = await cli(['uninstall-host', 'box', '--no-backup'], home, boundMs);
      assert.equal(removed.code, 0, removed.stderr);
      assert.equal(sha(await fs.readFile(config)), sha(original));
    });
  }
});
