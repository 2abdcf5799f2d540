import { Agent as HttpAgent, type AgentOptions } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { Duplex } from 'node:stream';
import type { NetworkAgents } from './network-agents.js';

/**
 * The agents for the SSM client, with a connection to its endpoint opened now, while connect still
 * loads the SDK and resolves credentials: StartSession then pays for the request alone instead of
 * TCP, TLS and the request (docs/architecture.md, cli/). Only for a direct connection (no proxy);
 * `ca` is the CA bundle in effect, if any. The first request to that host and port takes the
 * connection; any other, or a retry, dials as usual. Unused, the connection neither keeps the
 * process alive nor outlives `discard()`; a failed one is dropped silently (the SDK's own dial then
 * reports the failure).
 */
export function warmApiAgents(endpoint: URL, ca: string[] | undefined): { agents: NetworkAgents; discard(): void } {
  const secure = endpoint.protocol === 'https:';
  const host = endpoint.hostname.startsWith('[') ? endpoint.hostname.slice(1, -1) : endpoint.hostname;
  const port = Number(endpoint.port) || (secure ? 443 : 80);
  let warm: Socket | undefined = secure
    ? tlsConnect({ host, port, ...(isIP(host) ? {} : { servername: host }), ...(ca ? { ca } : {}) })
    : netConnect({ host, port });
  warm.on('error', () => discard());
  warm.unref();
  const discard = () => {
    warm?.destroy();
    warm = undefined;
  };
  /** The warm connection for a request to host:port, once; undefined otherwise. */
  const take = (options: { host?: string | null; port?: number | string | null }): Socket | undefined => {
    const socket = warm;
    if (!socket || socket.destroyed || options.host !== host || Number(options.port) !== port) return undefined;
    warm = undefined;
    socket.removeAllListeners('error');
    socket.ref();
    return socket;
  };
  // The SDK's own defaults for the agent it would build (@smithy/node-http-handler).
  const options: AgentOptions = { keepAlive: true, maxSockets: 50 };
  if (secure) {
    class WarmHttpsAgent extends HttpsAgent {
      override createConnection(connectOptions: Parameters<HttpsAgent['createConnection']>[0], callback?: (error: Error | null, socket: Duplex) => void): Duplex | null | undefined {
        return take(connectOptions as { host?: string; port?: number }) ?? super.createConnection(connectOptions, callback);
      }
    }
    return { agents: { http: undefined, https: new WarmHttpsAgent({ ...options, ...(ca ? { ca } : {}) }) }, discard };
  }
  class WarmHttpAgent extends HttpAgent {
    override createConnection(connectOptions: Parameters<HttpAgent['createConnection']>[0], callback?: (error: Error | null, socket: Duplex) => void): Duplex | null | undefined {
      return take(connectOptions as { host?: string; port?: number }) ?? super.createConnection(connectOptions, callback);
    }
  }
  return { agents: { http: new WarmHttpAgent(options), https: undefined }, discard };
}
