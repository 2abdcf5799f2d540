/**
 * Server-side SigV4 verification, written from the SigV4 specification with node:crypto only, so
 * it shares no code with the signer ssm-proxy uses. It verifies what AWS verifies
 * (docs/protocol.md §3.3, §12 item 1):
 *
 * - the canonical request is rebuilt from the request *as received*, over exactly the headers the
 *   client lists in `SignedHeaders` (AWS imposes no list of its own; `host` must be in it);
 * - the canonical query is the raw query decoded with form semantics (`+` is a space), re-encoded
 *   with spaces as `%20` and sorted — how the Go signers see `cell-number`;
 * - the payload hash is SHA-256 of the body actually received;
 * - `X-Amz-Date` must be within 15 minutes of the server's clock and on the credential scope's day;
 * - the credential scope must name the expected service and region, and a known access key.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export interface ParsedAuthorization {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
}

const AUTHORIZATION =
  /^AWS4-HMAC-SHA256\s+Credential=([^/,\s]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request\s*,\s*SignedHeaders=([^,\s]+)\s*,\s*Signature=([0-9a-f]{64})\s*$/;

export function parseAuthorization(header: string | string[] | undefined): ParsedAuthorization | undefined {
  const text = Array.isArray(header) ? header[0] : header;
  const match = text ? AUTHORIZATION.exec(text) : null;
  if (!match) return undefined;
  return {
    accessKeyId: match[1]!,
    date: match[2]!,
    region: match[3]!,
    service: match[4]!,
    signedHeaders: match[5]!.split(';'),
    signature: match[6]!,
  };
}

export interface SignedRequest {
  method: string;
  /** Raw request target as received: path plus query. */
  url: string;
  /** Node's `rawHeaders`: name, value, name, value … exactly as received. */
  rawHeaders: string[];
  body?: Buffer;
}

/** Why a request was refused, in AWS's categories. */
export type SignatureFault =
  | 'incomplete' // no or malformed Authorization
  | 'unknown-key' // access key id not known (AWS: UnrecognizedClientException)
  | 'scope' // wrong service or region in the credential scope
  | 'date' // X-Amz-Date missing, malformed, or not the scope's day
  | 'expired' // X-Amz-Date more than 15 minutes away from now
  | 'host-unsigned' // `host` not among SignedHeaders
  | 'mismatch'; // the signature does not match

export type VerifyResult = { ok: true } | { ok: false; fault: SignatureFault; reason: string };

export interface VerifyExpectation {
  /** The secret for an access key id, or undefined when the key is unknown. */
  secretFor(accessKeyId: string): string | undefined;
  service: string;
  region: string;
  /** Server clock in ms (default Date.now()). */
  now?: number;
}

/** AWS refuses signatures whose date is more than this far from its clock. */
export const MAX_CLOCK_SKEW_MS = 15 * 60_000;

export function verifySignature(request: SignedRequest, expected: VerifyExpectation): VerifyResult {
  const auth = parseAuthorization(headerValues(request.rawHeaders, 'authorization')[0]);
  if (!auth) return fail('incomplete', 'missing or malformed Authorization header');
  if (auth.service !== expected.service) {
    return fail('scope', `credential scope service ${auth.service}, expected ${expected.service}`);
  }
  if (auth.region !== expected.region) return fail('scope', `credential scope region ${auth.region}, expected ${expected.region}`);
  const secret = expected.secretFor(auth.accessKeyId);
  if (secret === undefined) return fail('unknown-key', `unknown access key ${auth.accessKeyId}`);

  const amzDate = headerValues(request.rawHeaders, 'x-amz-date')[0]?.trim();
  const signedAt = amzDate ? parseAmzDate(amzDate) : undefined;
  if (!amzDate || signedAt === undefined) return fail('date', 'missing or malformed X-Amz-Date');
  if (amzDate.slice(0, 8) !== auth.date) {
    return fail('date', `date in credential scope ${auth.date} is not the date of X-Amz-Date ${amzDate}`);
  }
  const now = expected.now ?? Date.now();
  if (Math.abs(now - signedAt) > MAX_CLOCK_SKEW_MS) {
    return fail('expired', `signature expired: X-Amz-Date ${amzDate} is more than 15 minutes from ${formatAmzDate(now)}`);
  }
  if (!auth.signedHeaders.includes('host')) return fail('host-unsigned', "'host' must be a signed header");

  const canonicalHeaders: string[] = [];
  for (const name of auth.signedHeaders) {
    const values = headerValues(request.rawHeaders, name);
    if (values.length === 0) return fail('mismatch', `signed header ${name} is missing from the request`);
    canonicalHeaders.push(`${name}:${values.map((value) => value.trim().replace(/\s+/g, ' ')).join(',')}\n`);
  }
  const questionMark = request.url.indexOf('?');
  const rawPath = questionMark < 0 ? request.url : request.url.slice(0, questionMark);
  const rawQuery = questionMark < 0 ? '' : request.url.slice(questionMark + 1);
  const canonicalRequest = [
    request.method.toUpperCase(),
    canonicalPath(rawPath),
    canonicalQuery(rawQuery),
    canonicalHeaders.join(''),
    auth.signedHeaders.join(';'),
    sha256Hex(request.body ?? Buffer.alloc(0)),
  ].join('\n');
  const scope = `${auth.date}/${auth.region}/${auth.service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(Buffer.from(canonicalRequest, 'utf8'))].join('\n');
  const signature = sigV4Signature(secret, auth.date, auth.region, auth.service, stringToSign);
  const matches = timingSafeEqual(Buffer.from(signature, 'hex'), Buffer.from(auth.signature, 'hex'));
  return matches ? { ok: true } : fail('mismatch', 'signature mismatch');
}

/** The SigV4 signing-key chain and the final HMAC, hex. */
export function sigV4Signature(secret: string, date: string, region: string, service: string, stringToSign: string): string {
  let key: Buffer = hmac(Buffer.from(`AWS4${secret}`, 'utf8'), date);
  key = hmac(key, region);
  key = hmac(key, service);
  key = hmac(key, 'aws4_request');
  return hmac(key, stringToSign).toString('hex');
}

/** Each segment of the path as sent, URI-encoded once more (non-S3 services encode twice). */
export function canonicalPath(rawPath: string): string {
  if (rawPath === '' || rawPath === '/') return '/';
  return rawPath
    .split('/')
    .map((segment) => uriEncode(segment))
    .join('/');
}

/** Form-decoded (`+` is a space), then URI-encoded (space is %20), sorted by name then value. */
export function canonicalQuery(rawQuery: string): string {
  const pairs: [string, string][] = [];
  for (const part of rawQuery.split('&')) {
    if (part === '') continue;
    const equals = part.indexOf('=');
    const name = equals < 0 ? part : part.slice(0, equals);
    const value = equals < 0 ? '' : part.slice(equals + 1);
    pairs.push([uriEncode(formDecode(name)), uriEncode(formDecode(value))]);
  }
  pairs.sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0));
  return pairs.map(([name, value]) => `${name}=${value}`).join('&');
}

/** RFC 3986 unreserved characters stay; every other UTF-8 byte becomes %XX (upper case). */
export function uriEncode(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const unreserved =
      (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a) || (byte >= 0x30 && byte <= 0x39) ||
      byte === 0x2d || byte === 0x2e || byte === 0x5f || byte === 0x7e;
    out += unreserved ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

export function formatAmzDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

/** Every value of header `name` (case-insensitive), in the order received. */
export function headerValues(rawHeaders: string[], name: string): string[] {
  const values: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.toLowerCase() === name) values.push(rawHeaders[i + 1]!);
  }
  return values;
}

function formDecode(text: string): string {
  const spaced = text.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(spaced);
  } catch {
    return spaced;
  }
}

function parseAmzDate(text: string): number | undefined {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s] = match.map(Number) as [number, number, number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  return Number.isNaN(ms) ? undefined : ms;
}

function hmac(key: Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

function sha256Hex(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function fail(fault: SignatureFault, reason: string): VerifyResult {
  return { ok: false, fault, reason };
}
