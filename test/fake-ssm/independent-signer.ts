/**
 * A second SigV4 signer for tests, written from the SigV4 specification with node:crypto only: it
 * shares no code with ssm-proxy's signer (@smithy/signature-v4) nor with the fake's verifier, so a
 * misunderstanding in either shows up as a refused request. It signs exactly the headers it is
 * given, so a test can sign only `host;x-amz-date` as AWS's Go signer does for the upgrade.
 */
import { createHash, createHmac } from 'node:crypto';

export interface SignInput {
  method: string;
  /** The URL as it will be sent (path and raw query are taken from it). */
  url: string;
  /** Headers to sign, names in any case; `host` and `x-amz-date` must be among them. */
  headers: Record<string, string>;
  body?: Buffer | string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  service: string;
}

/** The Authorization header value for `input`. */
export function authorizationFor(input: SignInput): string {
  const headers = Object.entries(input.headers).map(([name, value]) => [name.toLowerCase(), value.trim()] as const);
  headers.sort(([a], [b]) => (a < b ? -1 : 1));
  const amzDate = headers.find(([name]) => name === 'x-amz-date')?.[1];
  if (!amzDate) throw new Error('x-amz-date must be signed');
  const day = amzDate.slice(0, 8);

  const afterScheme = input.url.slice(input.url.indexOf('//') + 2);
  const pathAndQuery = afterScheme.slice(afterScheme.indexOf('/'));
  const [path = '/', query = ''] = splitOnce(pathAndQuery, '?');
  const canonicalUri = path.split('/').map(encodeStrict).join('/');
  // Query names and values as the Go signers see them: form-decoded ('+' is a space), then
  // encoded strictly (space → %20), sorted by name.
  const canonicalQueryString = query
    .split('&')
    .filter((part) => part.length > 0)
    .map((part) => splitOnce(part, '='))
    .map(([name, value = '']) => [encodeStrict(fromForm(name)), encodeStrict(fromForm(value))] as const)
    .sort(([a, x], [b, y]) => (a === b ? (x < y ? -1 : 1) : a < b ? -1 : 1))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
  const signedHeaders = headers.map(([name]) => name).join(';');
  const canonical =
    `${input.method}\n${canonicalUri}\n${canonicalQueryString}\n` +
    headers.map(([name, value]) => `${name}:${value}\n`).join('') +
    `\n${signedHeaders}\n${hex(input.body ?? '')}`;
  const scope = `${day}/${input.region}/${input.service}/aws4_request`;
  const stringToSign = `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${hex(canonical)}`;
  const kDate = mac(`AWS4${input.secretAccessKey}`, day);
  const kSigning = mac(mac(mac(kDate, input.region), input.service), 'aws4_request');
  const signature = createHmac('sha256', kSigning).update(stringToSign).digest('hex');
  return `AWS4-HMAC-SHA256 Credential=${input.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
}

/** YYYYMMDDTHHMMSSZ for a time in ms. */
export function amzDateOf(ms: number): string {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}${two(d.getUTCMonth() + 1)}${two(d.getUTCDate())}T${two(d.getUTCHours())}${two(d.getUTCMinutes())}${two(d.getUTCSeconds())}Z`;
}

function encodeStrict(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function fromForm(text: string): string {
  return decodeURIComponent(text.split('+').join(' '));
}

function splitOnce(text: string, separator: string): [string, string?] {
  const at = text.indexOf(separator);
  return at < 0 ? [text] : [text.slice(0, at), text.slice(at + 1)];
}

function mac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

function hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
