/**
 * The shared checks on what users type (numbers, regions, endpoint URLs, targets) and the bounded
 * reader of user-named files: devices, pipes and directories answer at once, never block.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { decodeText, readBounded } from '../../src/bounded-read.js';
import { SsmProxyError } from '../../src/errors.js';
import { checkEndpointUrl, checkRegion, checkTargetId, parsePort, parseSeconds } from '../../src/input-checks.js';

const usage = (pattern: RegExp) => (error: unknown) => error instanceof SsmProxyError && error.kind === 'usage' && pattern.test(error.message);

describe('input checks', () => {
  it('ports: decimal digits 1-65535 only, echoed as typed', () => {
    assert.equal(parsePort('22', 'x'), 22);
    assert.equal(parsePort('65535', 'x'), 65535);
    assert.equal(parsePort('0022', 'x'), 22);
    for (const bad of ['', '0', '65536', '0x16', '0b10110', '0o26', '1e3', '22abc', ' 22', '22 ', '+22', '-1', '2.0', 'Infinity', '２２']) {
      assert.throws(() => parsePort(bad, 'from --port'), usage(new RegExp(`^port '${bad.replace(/[.+]/g, '\\$&')}' \\(from --port\\) is not a TCP port`)), bad);
    }
  });

  it('seconds: whole decimal seconds within the bound', () => {
    assert.equal(parseSeconds('30', 'x'), 30);
    for (const bad of ['', '0', '1e3', '0x1e', '1.5', 'abc', '-3', '86401']) {
      assert.throws(() => parseSeconds(bad, 'from --t'), usage(/is not a number of seconds/), bad);
    }
    assert.throws(() => parseSeconds('601', 'from --connect-timeout', 600), usage(/from 1 to 600$/));
  });

  it('regions: the shape of every AWS region, nothing else', () => {
    for (const good of ['eu-west-2', 'us-gov-east-1', 'cn-northwest-1', 'us-iso-east-1', 'us-isob-east-1', 'eusc-de-east-1', 'ap-southeast-7', 'mx-central-1']) {
      assert.equal(checkRegion(good, 'x'), good);
    }
    for (const bad of ['', '../../etc', 'EU-WEST-2', 'eu-west', 'eu_west_2', 'eu-west-2 ', 'eu-west-2\n', 'localhost', 'eu-west-123']) {
      assert.throws(() => checkRegion(bad, 'from --region'), usage(/is not an AWS region name/), JSON.stringify(bad));
    }
    assert.throws(() => checkRegion('x', 'from AWS_REGION', 'config'), (e: unknown) => e instanceof SsmProxyError && e.kind === 'config');
  });

  it('endpoint URLs: absolute http(s) with a host, no credentials', () => {
    assert.equal(checkEndpointUrl('https://ssm.eu-west-2.amazonaws.com', 'x').host, 'ssm.eu-west-2.amazonaws.com');
    assert.equal(checkEndpointUrl('http://127.0.0.1:8080/', 'x').port, '8080');
    for (const [bad, words] of [
      ['not a url', /is not a URL/], ['file:///etc/passwd', /is a file: URL/], ['ws://x', /is a ws: URL/], ['javascript:alert(1)', /is not a URL/],
      ['ssm.amazonaws.com', /is not a URL/], ['https://user:pw@host', /holds a user name or password/], ['', /is not a URL/],
    ] as const) {
      assert.throws(() => checkEndpointUrl(bad, 'from --endpoint-url'), usage(words), bad);
    }
  });

  it('targets: the one wording for connect, doctor and install-host', () => {
    assert.equal(checkTargetId('i-0123456789abcdef0', 'x'), 'i-0123456789abcdef0');
    assert.throws(() => checkTargetId('i-x;id', 'from --target'), usage(/^target 'i-x;id' \(from --target\) is not valid: expected an EC2 instance id/));
    assert.throws(() => checkTargetId('', 'the first argument'), usage(/^no target \(the first argument\)/));
  });
});

describe('bounded reads of user-named files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ssm-proxy-bounded-'));

  it('reads a file up to the limit, refuses one byte more', () => {
    const file = join(dir, 'small');
    writeFileSync(file, 'x'.repeat(100));
    const ok = readBounded(file, 100);
    assert.ok(ok.ok && ok.bytes.length === 100);
    const over = readBounded(file, 99);
    assert.ok(!over.ok && over.code === 'TOO_LARGE');
  });

  it('/dev/zero, a directory, a missing file, /dev/null: an answer at once', () => {
    const started = Date.now();
    const zero = readBounded('/dev/zero', 1 << 20);
    assert.ok(!zero.ok && zero.code === 'TOO_LARGE' && /larger than 1 MiB/.test(zero.reason));
    const directory = readBounded(dir, 1024);
    assert.ok(!directory.ok && directory.code === 'EISDIR');
    const missing = readBounded(join(dir, 'nope'), 1024);
    assert.ok(!missing.ok && missing.code === 'ENOENT' && missing.reason === 'does not exist');
    const empty = readBounded('/dev/null', 1024);
    assert.ok(empty.ok && empty.bytes.length === 0);
    assert.ok(Date.now() - started < 2000);
  });

  it('a FIFO with no writer does not block (opened non-blocking)', () => {
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const started = Date.now();
    const read = readBounded(fifo, 1024);
    assert.ok(Date.now() - started < 2000, 'returned at once');
    // No writer: EOF (empty) or "gives no data", never a wait.
    assert.ok(read.ok ? read.bytes.length === 0 : read.code === 'NOT_READY');
  });

  it('text or binary: NUL and other control bytes are binary; Latin-1 is text', () => {
    assert.equal(decodeText(Buffer.from('[default]\r\nregion = x\t# c\n')), '[default]\r\nregion = x\t# c\n');
    assert.equal(decodeText(Buffer.from([0x23, 0x20, 0x52, 0xe9, 0x0a])), '# R\ufffd\n');
    assert.equal(decodeText(Buffer.from([0x5b, 0x00, 0x5d])), undefined);
    assert.equal(decodeText(Buffer.from([0x1b, 0x5b, 0x32, 0x4a])), undefined);
  });
});
