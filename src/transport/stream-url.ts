/**
 * The StreamUrl with scheme, host and port taken from `endpoint` (`--ssmmessages-endpoint`,
 * parsed by cli/ssmmessages-endpoint.ts): the upgrade is then signed for the rewritten URL,
 * which is what a PrivateLink endpoint receives.
 */
export function rewriteStreamUrl(streamUrl: string, endpoint: URL | undefined): string {
  if (!endpoint) return streamUrl;
  let url: URL;
  try {
    url = new URL(streamUrl);
  } catch {
    return streamUrl; // dial() reports the invalid URL
  }
  return `${endpoint.protocol}//${endpoint.host}${url.pathname}${url.search}`;
}
