/**
 * Server-side SigV4 checks. `parseAuthorization` reads the header's credential scope (enough for
 * "was it signed for the right service and region?"); `verifySignature` recomputes the signature
 * with @smithy/signature-v4 from the request as received, so a client that canonicalises the
 * query differently from the Go signers (§3.3: `+` in cell-number is a space) is caught.
 */
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { IncomingHttpHeaders } from 'node:http';

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

export function parseAuthorization(header: string | undefined): ParsedAuthorization | undefined {
  const match = header ? AUTHORIZATION.exec(header) : null;
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
  headers: IncomingHttpHeaders;
  body?: Buffer;
}

export type VerifyResult = { ok: true } | { ok: false; reason: string };

/** Recomputes the signature for `expected` credentials, service and region; compares exactly. */
export async function verifySignature(
  request: SignedRequest,
  expected: { accessKeyId: string; secretAccessKey: string; service: string; region: string },
): Promise<VerifyResult> {
  const auth = parseAuthorization(headerText(request.headers.authorization));
  if (!auth) return { ok: false, reason: 'missing or malformed Authorization header' };
  if (auth.accessKeyId !== expected.accessKeyId) return { ok: false, reason: `unknown access key ${auth.accessKeyId}` };
  if (auth.service !== expected.service) return { ok: false, reason: `credential scope service ${auth.service}, expected ${expected.service}` };
  if (auth.region !== expected.region) return { ok: false, reason: `credential scope region ${auth.region}, expected ${expected.region}` };
  const amzDate = headerText(request.headers['x-amz-date']);
  const signingDate = amzDate ? parseAmzDate(amzDate) : undefined;
  if (!signingDate) return { ok: false, reason: 'missing or malformed X-Amz-Date' };

  const headers: Record<string, string> = {};
  for (const name of auth.signedHeaders) {
    const value = headerText(request.headers[name]);
    if (value === undefined) return { ok: false, reason: `signed header ${name} is missing` };
    headers[name] = value;
  }
  const { pathname, query } = splitUrl(request.url);
  const signer = new SignatureV4({
    service: expected.service,
    region: expected.region,
    sha256: Hash.bind(null, 'sha256'),
    credentials: {
      accessKeyId: expected.accessKeyId,
      secretAccessKey: expected.secretAccessKey,
      sessionToken: headerText(request.headers['x-amz-security-token']),
    },
  });
  const signed = await signer.sign(
    new HttpRequest({
      method: request.method,
      protocol: 'http:',
      hostname: headers.host?.split(':')[0] ?? '127.0.0.1',
      path: pathname,
      query,
      headers,
      body: request.body,
    }),
    { signingDate, signableHeaders: new Set(auth.signedHeaders) },
  );
  const recomputed = parseAuthorization(headerText(signed.headers.authorization));
  if (!recomputed) return { ok: false, reason: 'could not recompute the signature' };
  if (recomputed.signedHeaders.join(';') !== auth.signedHeaders.join(';')) {
    return { ok: false, reason: `signed header list differs: ${auth.signedHeaders.join(';')}` };
  }
  return recomputed.signature === auth.signature ? { ok: true } : { ok: false, reason: 'signature mismatch' };
}

/**
 * Splits path and query. The query is decoded with URLSearchParams, i.e. form semantics where `+`
 * is a space: that is how the Go signers see `cell-number` (§3.3).
 */
function splitUrl(url: string): { pathname: string; query: Record<string, string | string[]> } {
  const questionMark = url.indexOf('?');
  const pathname = questionMark < 0 ? url : url.slice(0, questionMark);
  const query: Record<string, string | string[]> = {};
  if (questionMark >= 0) {
    for (const [key, value] of new URLSearchParams(url.slice(questionMark + 1))) {
      const previous = query[key];
      query[key] = previous === undefined ? value : [...(Array.isArray(previous) ? previous : [previous]), value];
    }
  }
  return { pathname: decodeURIComponent(pathname), query };
}

function parseAmzDate(text: string): Date | undefined {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s] = match.map(Number) as [number, number, number, number, number, number, number];
  return new Date(Date.UTC(y, mo - 1, d, h, mi, s));
}

function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(',') : value;
}
