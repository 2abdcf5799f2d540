import { SsmProxyError, type ErrorKind } from '../errors.js';

/**
 * `--ssmmessages-endpoint`: in a network that reaches AWS only through PrivateLink, the StreamUrl's
 * public host (ssmmessages.REGION.amazonaws.com) is unreachable; the websocket must go to the VPC
 * endpoint instead. Scheme, host and port are replaced, path and query kept; the upgrade is then
 * signed for the rewritten URL, which is what the endpoint receives. https:// means wss://,
 * http:// means ws://.
 */
export function parseStreamEndpoint(value: string, source = '--ssmmessages-endpoint', kind: ErrorKind = 'usage'): URL {
  const text = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `wss://${value}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new SsmProxyError(kind, `invalid ${source} '${value}': expected a URL such as https://vpce-0abc-xyz.ssmmessages.eu-west-2.vpce.amazonaws.com`);
  }
  const scheme = { 'https:': 'wss:', 'wss:': 'wss:', 'http:': 'ws:', 'ws:': 'ws:' }[url.protocol];
  if (!scheme) throw new SsmProxyError(kind, `invalid ${source} '${value}': the scheme must be https, wss, http or ws`);
  if ((url.pathname !== '/' && url.pathname !== '') || url.search) {
    throw new SsmProxyError(kind, `invalid ${source} '${value}': give scheme, host and port only (the session's path and query are kept)`);
  }
  return new URL(`${scheme}//${url.host}`);
}
