import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { isPresignedUrl, signUpgradeHeaders } from '../../src/transport/sign-upgrade.js';

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const date = new Date('2026-11-27T10:20:30Z');

/** An independent SigV4 computation, written from the published algorithm, with Go-style query parsing. */
function expectedSignature(url: URL, region: string, signedHeaders: Record<string, string>): string {
  const rfc3986 = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  const pairs = [...url.searchParams].map(([k, v]) => [rfc3986(k), rfc3986(v)] as const);
  pairs.sort((a, b) => (a[0] === b[0] ? (a[1] < b[1] ? -1 : 1) : a[0] < b[0] ? -1 : 1));
  const canonicalQuery = pairs.map(([k, v]) => `${k}=${v}`).join('&');
  const names = Object.keys(signedHeaders).map((n) => n.toLowerCase()).sort();
  const lookup = Object.fromEntries(Object.entries(signedHeaders).map(([k, v]) => [k.toLowerCase(), v]));
  const canonicalHeaders = names.map((n) => `${n}:${lookup[n]!.trim()}\n`).join('');
  const payloadHash = createHash('sha256').update('').digest('hex');
  const canonicalRequest = ['GET', url.pathname, canonicalQuery, canonicalHeaders, names.join(';'), payloadHash].join('\n');
  const amzDate = lookup['x-amz-date']!;
  const scope = `${amzDate.slice(0, 8)}/${region}/ssmmessages/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, createHash('sha256').update(canonicalRequest).digest('hex')].join('\n');
  const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();
  let key = hmac(`AWS4${credentials.secretAccessKey}`, amzDate.slice(0, 8));
  for (const part of [region, 'ssmmessages', 'aws4_request']) key = hmac(key, part);
  return createHmac('sha256', key).update(stringToSign).digest('hex');
}

describe('SigV4 signing of the websocket upgrade (§3.3)', () => {
  const raw =
    'wss://ssmmessages.eu-west-2.amazonaws.com/v1/data-channel/alice-0a1b2c3d4e5f67890?role=publish_subscribe&cell-number=AAEAAb+c/dE=';

  it('signs for ssmmessages with a canonical query that reads + as a space', async () => {
    const url = new URL(raw);
    const headers = await signUpgradeHeaders(url, 'eu-west-2', credentials, date);
    const authorization = headers.authorization!;
    assert.match(authorization, /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/20261127\/eu-west-2\/ssmmessages\/aws4_request, /);
    const signedNames = /SignedHeaders=([^,]+)/.exec(authorization)![1]!.split(';');
    assert.ok(signedNames.includes('host'));
    const signed: Record<string, string> = { host: url.host };
    for (const name of signedNames) if (name !== 'host') signed[name] = headers[name]!;
    const signature = /Signature=([0-9a-f]{64})/.exec(authorization)![1];
    assert.equal(signature, expectedSignature(url, 'eu-west-2', signed));
  });

  it('differs from a signature that kept the + literally', async () => {
    const url = new URL(raw);
    const headers = await signUpgradeHeaders(url, 'eu-west-2', credentials, date);
    const literal = new URL(raw.replace('+', '%2B')); // what a naive signer would canonicalise
    const signed: Record<string, string> = { host: url.host, 'x-amz-date': headers['x-amz-date']! };
    if (headers['x-amz-content-sha256']) signed['x-amz-content-sha256'] = headers['x-amz-content-sha256'];
    assert.notEqual(/Signature=([0-9a-f]{64})/.exec(headers.authorization!)![1], expectedSignature(literal, 'eu-west-2', signed));
  });

  it('adds the session token of temporary credentials and never puts the secret in a header', async () => {
    const headers = await signUpgradeHeaders(new URL(raw), 'eu-west-2', { ...credentials, sessionToken: 'FwoGZXIvYXdzEXAMPLETOKEN' }, date);
    assert.equal(headers['x-amz-security-token'], 'FwoGZXIvYXdzEXAMPLETOKEN');
    assert.ok(!JSON.stringify(headers).includes(credentials.secretAccessKey));
    assert.ok(!('host' in headers), 'ws sets Host itself');
  });

  it('leaves presigned URLs unsigned', async () => {
    const presigned = new URL(`${raw}&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=abc`);
    assert.equal(isPresignedUrl(presigned), true);
    assert.equal(isPresignedUrl(new URL(raw)), false);
    assert.deepEqual(await signUpgradeHeaders(presigned, 'eu-west-2', credentials, date), {});
  });
});
