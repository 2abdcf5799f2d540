import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { browserOpener } from '../../src/platform/browser-opener.js';
import { executableCandidates, findExecutable } from '../../src/platform/find-executable.js';

describe('findExecutable: a program on PATH as the platform looks for it', () => {
  it('Windows: PATHEXT extensions, ; separators, quoted folders, existence only', () => {
    const env = { PATH: 'C:\\Windows\\System32;"C:\\Program Files\\Git\\usr\\bin";C:\\Windows\\System32\\OpenSSH\\', PATHEXT: '.COM;.EXE;.BAT' };
    assert.deepEqual(executableCandidates('ssh', env, 'win32').slice(0, 4), [
      'C:\\Windows\\System32\\ssh.com',
      'C:\\Windows\\System32\\ssh.exe',
      'C:\\Windows\\System32\\ssh.bat',
      'C:\\Program Files\\Git\\usr\\bin\\ssh.com',
    ]);
    const present = new Set(['C:\\Windows\\System32\\OpenSSH\\ssh.exe']);
    const access = (file: string, mode: number): void => {
      assert.equal(mode, 0, 'F_OK: Windows has no execute bit');
      if (!present.has(file)) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
    };
    assert.equal(findExecutable('ssh', env, 'win32', access), 'C:\\Windows\\System32\\OpenSSH\\ssh.exe');
    assert.equal(findExecutable('ssh.exe', { Path: 'C:\\Windows\\System32\\OpenSSH' }, 'win32', access), 'C:\\Windows\\System32\\OpenSSH\\ssh.exe');
    assert.equal(findExecutable('scp', env, 'win32', access), undefined);
  });

  it('POSIX: : separators and the execute bit, on a real folder', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'find-executable-'));
    try {
      mkdirSync(path.join(dir, 'a'));
      mkdirSync(path.join(dir, 'b'));
      writeFileSync(path.join(dir, 'a', 'tool'), '#!/bin/sh\n'); // not executable: skipped
      writeFileSync(path.join(dir, 'b', 'tool'), '#!/bin/sh\n');
      chmodSync(path.join(dir, 'b', 'tool'), 0o755);
      const env = { PATH: `${path.join(dir, 'a')}:${path.join(dir, 'b')}` };
      assert.equal(findExecutable('tool', env, 'linux'), path.join(dir, 'b', 'tool'));
      assert.equal(findExecutable('missing', env, 'linux'), undefined);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('browserOpener', () => {
  const url = 'https://device.sso.eu-west-2.amazonaws.com/?user_code=ABCD-EFGH&x=1';
  it('macOS open, Windows rundll32 without cmd.exe, xdg-open only with a display', () => {
    assert.deepEqual(browserOpener(url, 'darwin', {}), { command: 'open', args: [url] });
    assert.deepEqual(browserOpener(url, 'win32', {}), { command: 'rundll32', args: ['url.dll,FileProtocolHandler', url] });
    assert.deepEqual(browserOpener(url, 'linux', { DISPLAY: ':0' }), { command: 'xdg-open', args: [url] });
    assert.deepEqual(browserOpener(url, 'linux', { WAYLAND_DISPLAY: 'wayland-0' }), { command: 'xdg-open', args: [url] });
    assert.equal(browserOpener(url, 'linux', {}), undefined);
  });
});
