/**
 * Checks on values a user typed (flags, positionals) or set (environment, config), shared by every
 * command so the same mistake gets the same words everywhere. Each takes the raw text as typed —
 * never what a parser made of it — and names it in the message together with where it came from.
 */
import { SsmProxyError, type ErrorKind } from './errors.js';
import { printable } from './printable.js';
import { isValidTargetId, TARGET_ID_HINT } from './target-id.js';

/** `eu-west-2`, `us-gov-west-1`, `us-isob-east-1`, `eusc-de-east-1`: the shape of every AWS region name. */
const REGION = /^[a-z]{2,4}(-[a-z]+)+-\d{1,2}$/;

/** The shape of an AWS region name (eu-west-2, us-gov-west-1, eusc-de-east-1). */
export function isRegionName(text: string): boolean {
  return REGION.test(text);
}
const DIGITS = /^\d+$/;

/** The SDK's endpoint variables that ssm-proxy's calls honour; each must be an http(s) URL. */
export const ENDPOINT_VARIABLES = ['AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_SSM', 'AWS_ENDPOINT_URL_STS', 'AWS_ENDPOINT_URL_SSO', 'AWS_ENDPOINT_URL_SSO_OIDC'] as const;

export function checkTargetId(text: string, from: string): string {
  if (!isValidTargetId(text)) {
    throw new SsmProxyError('usage', text === '' ? `no target (${from}): ${TARGET_ID_HINT}` : `target '${printable(text)}' (${from}) is not valid: ${TARGET_ID_HINT}`);
  }
  return text;
}

/** A TCP port as typed: decimal digits only (not `0x16`, `1e3`, `22abc` or empty), 1-65535. */
export function parsePort(text: string, from: string): number {
  const port = DIGITS.test(text) ? Number(text) : Number.NaN;
  if (!(port >= 1 && port <= 65535)) throw new SsmProxyError('usage', `port '${printable(text)}' (${from}) is not a TCP port (1-65535)`);
  return port;
}

/** Whole seconds as typed: decimal digits only, from 1 to `max`. */
export function parseSeconds(text: string, from: string, max = 86_400): number {
  const seconds = DIGITS.test(text) ? Number(text) : Number.NaN;
  if (!(seconds >= 1 && seconds <= max)) {
    throw new SsmProxyError('usage', `'${printable(text)}' (${from}) is not a number of seconds; expected whole seconds from 1 to ${max}`);
  }
  return seconds;
}

export function checkRegion(region: string, from: string, kind: ErrorKind = 'usage'): string {
  if (!isRegionName(region)) {
    const fix = kind === 'usage' ? 'pass --region' : `fix ${from}, or pass --region`;
    throw new SsmProxyError(kind, `region '${printable(region)}' (${from}) is not an AWS region name such as eu-west-2; ${fix}`);
  }
  return region;
}

/** An endpoint override: an absolute http:// or https:// URL with a host, nothing else. */
export function checkEndpointUrl(text: string, from: string, kind: ErrorKind = 'usage'): URL {
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  const fix = kind === 'usage' ? `pass an http:// or https:// URL such as https://ssm.eu-west-2.amazonaws.com` : `set ${from} to an http:// or https:// URL, or unset it`;
  if (!url || !/^[a-z][a-z0-9+.-]*:\/\//i.test(text.trim())) {
    throw new SsmProxyError(kind, `endpoint '${printable(text)}' (${from}) is not a URL; ${fix}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new SsmProxyError(kind, `endpoint '${printable(text)}' (${from}) is a ${url.protocol.slice(0, -1)}: URL; only http:// and https:// endpoints can be called; ${fix}`);
  }
  if (!url.hostname) throw new SsmProxyError(kind, `endpoint '${printable(text)}' (${from}) has no host; ${fix}`);
  if (url.username || url.password) throw new SsmProxyError(kind, `endpoint (${from}) holds a user name or password; ${fix}`);
  return url;
}
