import type { Agent } from 'node:http';
import { SsmProxyError } from '../errors.js';
import { describeTlsFailure, tlsErrorCode } from '../network/network-errors.js';

/**
 * Is `url` reachable the way the SDK and the websocket will reach it (same agent: proxy, CA)?
 * An unsigned GET; any HTTP answer counts (AWS answers 4xx to it). Resolves with the status.
 */
export async function probeEndpoint(url: string, agent: Agent | undefined, timeoutMs = 10_000): Promise<number> {
  const parsed = new URL(url);
  const secure = parsed.protocol === 'https:' || parsed.protocol === 'wss:';
  const { request } = secure ? await import('node:https') : await import('node:http');
  const target = `${secure ? 'https' : 'http'}://${parsed.host}/`;
  return new Promise((resolve, reject) => {
    const req = request(target, { method: 'GET', ...(agent ? { agent } : {}), timeout: timeoutMs }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    req.once('timeout', () => req.destroy(Object.assign(new Error('no answer'), { code: 'ETIMEDOUT' })));
    req.once('error', (error: NodeJS.ErrnoException) => {
      if (error instanceof SsmProxyError) return reject(error);
      const tls = tlsErrorCode(error);
      if (tls) return reject(describeTlsFailure(tls, parsed.host));
      reject(new SsmProxyError('network', `cannot reach ${target.replace(/\/$/, '')}: ${error.code ?? error.message}`));
    });
    req.end();
  });
}
