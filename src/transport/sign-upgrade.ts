import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity } from '@smithy/types';

const PRESIGN_QUERY_KEYS = [
  'X-Amz-Algorithm',
  'X-Amz-Credential',
  'X-Amz-Date',
  'X-Amz-Expires',
  'X-Amz-SignedHeaders',
  'X-Amz-Signature',
  'X-Amz-Security-Token',
];

/** A StreamUrl that already carries a SigV4 query signature must not be signed again (docs/protocol.md §3.3). */
export function isPresignedUrl(url: URL): boolean {
  return PRESIGN_QUERY_KEYS.some((key) => url.searchParams.has(key));
}

/**
 * SigV4 headers for the websocket upgrade: a GET of the StreamUrl, service `ssmmessages`,
 * empty body (docs/protocol.md §3.3). The query is handed to the signer *decoded with form semantics* (`+` → space),
 * as Go's signers parse it, so the canonical query of a `cell-number` holding `+` matches what
 * the service computes. The upgrade itself still goes to the original URL string.
 */
export async function signUpgradeHeaders(
  streamUrl: URL,
  region: string,
  credentials: AwsCredentialIdentity,
  signingDate?: Date,
): Promise<Record<string, string>> {
  if (isPresignedUrl(streamUrl)) return {};
  const query: Record<string, string | string[]> = {};
  for (const [key, value] of streamUrl.searchParams) {
    const existing = query[key];
    if (existing === undefined) query[key] = value;
    else query[key] = Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  const request = new HttpRequest({
    method: 'GET',
    protocol: streamUrl.protocol === 'ws:' ? 'http:' : 'https:',
    hostname: streamUrl.hostname,
    ...(streamUrl.port ? { port: Number(streamUrl.port) } : {}),
    path: decodeURIComponent(streamUrl.pathname),
    query,
    headers: { host: streamUrl.host },
  });
  const signer = new SignatureV4({
    service: 'ssmmessages',
    region,
    credentials,
    sha256: Hash.bind(null, 'sha256'),
  });
  const signed = await signer.sign(request, signingDate ? { signingDate } : undefined);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(signed.headers)) {
    if (name.toLowerCase() !== 'host') headers[name] = value;
  }
  return headers;
}
