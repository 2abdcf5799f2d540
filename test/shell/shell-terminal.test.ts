/**
 * `ssm-proxy shell` in a real terminal (tmux) against the fake agent's real sh in a pty:
 * prompt, echo, terminal size and resize, Ctrl-C, a full-screen program, exit and the
 * restored terminal, a 1 MiB burst (docs/protocol.md §14) — once in clear, once with KMS
 * encryption (§15), where the fake agent also confirms every payload was encrypted and decrypted.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sleep, startTerminalHarness, type TerminalHarness } from './terminal-harness.js';

for (const kms of [false, true]) {
  describe(kms ? 'with KMS encryption' : 'in clear', () => {
  let h: TerminalHarness;

  before(async () => {
    h = await startTerminalHarness({ cols: 100, rows: 30, kms });
    await h.startShell();
  });
  after(() => h.stop());

  const promptAtEnd = /remote\$\s*$/; // capture-pane drops the prompt's trailing space

  test('the prompt appears and echo round-trips', async () => {
    await h.waitForScreen(promptAtEnd, 20_000, 'the remote prompt');
    await h.sendText('echo "round $((40+2)) trip"');
    await h.sendKeys('Enter');
    await h.waitForScreen(/\nround 42 trip\n/, 10_000, 'the echo');
  });

  test('stty size equals the pane and follows tmux resize-window', async () => {
    await h.sendText('stty size');
    await h.sendKeys('Enter');
    await h.waitForScreen(/\n30 100\n/, 10_000, 'stty size 30 100');
    await h.tmux(['resize-window', '-t', 'main', '-x', '120', '-y', '40']);
    await h.sendText('clear; stty size');
    await h.sendKeys('Enter');
    await h.waitForScreen(/(^|\n)40 120\n/, 10_000, 'stty size 40 120 after the resize');
    const sizes = h.fake.records.shellSessions[0]!.sizes;
    assert.deepEqual(sizes.at(0), { cols: 100, rows: 30 });
    assert.deepEqual(sizes.at(-1), { cols: 120, rows: 40 });
  });

  test('Ctrl-C interrupts sleep 30 on the remote side and the shell survives', async () => {
    await h.sendText('clear; sleep 30; echo "after sleep $?"');
    await h.sendKeys('Enter');
    await new Promise((resolve) => setTimeout(resolve, 500));
    const started = Date.now();
    await h.sendKeys('C-c');
    await h.waitForScreen(promptAtEnd, 10_000, 'the prompt after Ctrl-C');
    assert.ok(Date.now() - started < 10_000);
    assert.doesNotMatch(await h.screen(), /after sleep/, 'Ctrl-C ends the whole command line, as in a local sh');
    await h.sendText('echo alive-$((6*7))');
    await h.sendKeys('Enter');
    await h.waitForScreen(/\nalive-42\n/, 10_000, 'the shell answering after Ctrl-C');
  });

  test('Ctrl-Z and Ctrl-\\ go to the remote side as bytes: ssm-proxy is neither stopped nor killed', async () => {
    await h.sendText('clear; sleep 30');
    await h.sendKeys('Enter');
    await sleep(500);
    await h.sendKeys('C-z');
    await h.waitForScreen(/Stopped[\s\S]*remote\$\s*$/, 10_000, 'the remote job control to stop sleep');
    await h.sendText('kill -9 %1; clear; sleep 30');
    await h.sendKeys('Enter');
    await sleep(500);
    await h.sendKeys('C-\\');
    await h.waitForScreen(/remote\$\s*$/, 10_000, 'the prompt after Ctrl-\\ quit sleep');
    await h.sendText('echo "survived $((40+2))"');
    await h.sendKeys('Enter');
    await h.waitForScreen(/\nsurvived 42\n/, 10_000, 'the shell answering');
  });

  test('less opens full screen and quits', async () => {
    await writeFile(join(h.dir, 'remote-home', 'lines.txt'), Array.from({ length: 200 }, (_, index) => `line ${index + 1}`).join('\n') + '\n');
    await h.sendText('clear; less lines.txt');
    await h.sendKeys('Enter');
    await h.waitForScreen(/^line 1\nline 2\n(line \d+\n)+(:|lines\.txt)\s*$/, 10_000, 'less showing the first page');
    await h.sendKeys('G');
    await h.waitForScreen(/line 200\n\(END\)\s*$/, 10_000, 'less at the end');
    await h.sendKeys('q');
    await h.waitForScreen(promptAtEnd, 10_000, 'the prompt after less');
  });

  test('1 MiB of base64 output arrives complete (sha256 of the bytes written to the terminal)', async () => {
    const data = Buffer.alloc(786_432);
    for (let index = 0; index < data.length; index++) data[index] = (index * 2654435761) >>> 24;
    await writeFile(join(h.dir, 'remote-home', 'blob'), data);
    const base64 = data.toString('base64').replace(/.{76}/g, '$&\n') + '\n';
    const expected = createHash('sha256').update(base64.replace(/\n/g, '\r\n')).digest('hex');
    const before = (await h.paneBytes()).length;
    await h.sendText('clear; printf "%s\\n" "BEGIN""MARK"; base64 blob; printf "%s\\n" "END""MARK"');
    await h.sendKeys('Enter');
    await h.waitForScreen(/\nENDMARK\n/, 60_000, 'the end of the base64 output');
    const bytes = (await h.paneBytes()).subarray(before).toString('latin1');
    const start = bytes.indexOf('BEGINMARK\r\n') + 'BEGINMARK\r\n'.length;
    const end = bytes.indexOf('ENDMARK\r\n', start);
    assert.ok(start > 'BEGINMARK\r\n'.length - 1 && end > start);
    const received = bytes.slice(start, end);
    assert.equal(received.length, base64.length + base64.split('\n').length - 1);
    assert.equal(createHash('sha256').update(Buffer.from(received, 'latin1')).digest('hex'), expected);
  });

  test(`${kms ? 'Ctrl-D' : 'exit'} ends ssm-proxy with 0 and the local terminal is as before`, async () => {
    // Ctrl-D is a byte for the remote shell (end of file at an empty prompt), not for ssm-proxy.
    if (kms) {
      await h.sendKeys('C-d');
    } else {
      await h.sendText('exit');
      await h.sendKeys('Enter');
    }
    const result = await h.waitForExit(15_000);
    assert.equal(result.code, 0);
    // The window was resized meanwhile; every other setting must be back as it was.
    const withoutSize = (stty: string) => stty.replace(/rows \d+; columns \d+; /, '');
    assert.match(result.sttyBefore, /rows 30; columns 100;/);
    assert.equal(withoutSize(result.sttyAfter), withoutSize(result.sttyBefore));
    assert.match(result.sttyAfter, /\bicanon\b[\s\S]*\becho\b/);
    await h.waitForScreen(/Exiting session with sessionId: ssm-proxy-test-\w+\./, 5000, 'the closing text');
    assert.equal(h.fake.records.sessionEnds.at(-1)?.reason, 'shell-exit');
  });

  if (kms) {
    test('the fake agent saw every payload encrypted and decrypted, and the KMS calls it expects', () => {
      const record = h.fake.records.shellSessions[0]!;
      assert.deepEqual(record.kms, { keyId: h.kms!.alias, challengeAcknowledged: true, challengeVerified: true });
      assert.ok(record.inputMessages > 10);
      assert.equal(record.inputDecrypted, record.inputMessages);
      assert.equal(record.inputDecryptFailures, 0);
      assert.ok(record.outputMessages > 1000);
      assert.equal(record.outputEncrypted, record.outputMessages);
      const generate = h.kms!.calls.filter((call) => call.operation === 'GenerateDataKey');
      assert.equal(generate.length, 1);
      assert.equal(generate[0]!.numberOfBytes, 64);
      assert.equal(generate[0]!.credentialService, 'kms');
      const sessionId = record.sessionId;
      assert.equal(generate[0]!.encryptionContext?.['aws:ssm:SessionId'], sessionId);
      assert.equal(generate[0]!.encryptionContext?.['aws:ssm:TargetId'], 'i-0123456789abcdef0');
    });

    test('the agent\'s KMS notice was shown on the terminal (stderr)', async () => {
      assert.match((await h.paneBytes()).toString('latin1'), /This session is encrypted using AWS KMS\./);
    });
  }
  });
}
