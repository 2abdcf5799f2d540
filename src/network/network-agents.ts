import type { Agent as HttpAgent, ClientRequest } from 'node:http';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { SsmProxyError } from '../errors.js';
import { bypassesProxy, needsAgents, type NetworkSettings } from './network-settings.js';

/**
 * The agents every outgoing connection of a command uses: the AWS SDK's request handler (SSM,
 * STS, SSO, SSO-OIDC) and the data-channel websocket. `http` serves http:// and ws:// URLs,
 * `https` serves https:// and wss://; either may be undefined (Node's default then).
 */
export interface NetworkAgents {
  http: HttpAgent | undefined;
  https: HttpAgent | undefined;
}

/**
 * How long an AWS endpoint may take, for every SDK client of a command (ssm-proxy's own and the
 * credential chain's inner ones). `--connect-timeout S` sets connect = S and request = 2 × S.
 */
export interface HttpTimeouts {
  /** TCP (and proxy CONNECT) connection established. */
  connectMs: number;
  /** The whole answer to one request, from its start. */
  requestMs: number;
}

/** Seconds suit a ProxyCommand: ssh users wait seconds, not the SDK's minutes. */
export const DEFAULT_CONNECT_TIMEOUT_S = 5;

export function httpTimeouts(connectTimeoutS = DEFAULT_CONNECT_TIMEOUT_S): HttpTimeouts {
  return { connectMs: connectTimeoutS * 1000, requestMs: 2 * connectTimeoutS * 1000 };
}

/** For the SDK clients: `requestHandler` options with the agents and timeouts that fail (not only warn). */
export interface RequestHandlerOptions {
  connectionTimeout: number;
  requestTimeout: number;
  /** Without it the handler only logs a warning when requestTimeout passes, and waits on. */
  throwOnRequestTimeout: true;
  httpAgent?: HttpAgent;
  httpsAgent?: HttpAgent;
}

export function requestHandlerOptions(agents: NetworkAgents | undefined, timeouts: HttpTimeouts = httpTimeouts()): RequestHandlerOptions {
  return {
    connectionTimeout: timeouts.connectMs,
    requestTimeout: timeouts.requestMs,
    throwOnRequestTimeout: true,
    ...(agents?.http ? { httpAgent: agents.http } : {}),
    ...(agents?.https ? { httpsAgent: agents.https } : {}),
  };
}

/** The agent for a URL (http:, https:, ws:, wss:). */
export function agentFor(agents: NetworkAgents | undefined, url: string | URL): HttpAgent | undefined {
  if (!agents) return undefined;
  const protocol = typeof url === 'string' ? new URL(url).protocol : url.protocol;
  return protocol === 'https:' || protocol === 'wss:' ? agents.https : agents.http;
}

/**
 * Builds the agents, loading https-proxy-agent / agent-base only when a proxy is configured.
 * With a proxy, one routing agent sends each connection through the proxy (HTTP CONNECT; TLS to
 * the destination inside the tunnel) or, when NO_PROXY matches, straight to the destination.
 * With only a CA bundle, an https.Agent whose `ca` is the bundle. TLS verification stays on.
 */
export async function createNetworkAgents(settings: NetworkSettings): Promise<NetworkAgents | undefined> {
  if (!needsAgents(settings)) return undefined;
  const ca = settings.ca?.certificates;
  if (!settings.proxy) {
    const { Agent } = await import('node:https');
    return { http: undefined, https: new Agent({ keepAlive: true, maxSockets: 50, ...(ca ? { ca } : {}) }) };
  }
  const [{ Agent: AgentBase }, { HttpsProxyAgent }] = await Promise.all([import('agent-base'), import('https-proxy-agent')]);
  const proxy = settings.proxy;
  // The CA is also used for an https:// proxy's own certificate (corporate proxies often have one).
  const tunnel = new HttpsProxyAgent(proxy.url, { ...(ca ? { ca } : {}) });

  class RoutingAgent extends AgentBase {
    async connect(request: ClientRequest, options: import('agent-base').AgentConnectOpts): Promise<net.Socket> {
      const host = options.host ?? 'localhost';
      const port = Number(options.port) || (options.secureEndpoint ? 443 : 80);
      if (bypassesProxy(proxy.noProxy, host, port)) {
        if (!options.secureEndpoint) return net.connect({ host, port });
        const servername = net.isIP(host) ? undefined : host;
        return tls.connect({ ...options, host, port, ...(servername ? { servername } : {}), ...(ca ? { ca } : {}) } as tls.ConnectionOptions);
      }
      let status: number | undefined;
      let statusText = '';
      request.once('proxyConnect', (answer: { statusCode: number; statusText: string }) => {
        status = answer.statusCode;
        statusText = answer.statusText;
      });
      let socket: net.Socket;
      try {
        socket = (await tunnel.connect(request, { ...options, ...(ca ? { ca } : {}) })) as net.Socket;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
        throw new SsmProxyError('network', `cannot reach the proxy ${proxy.label} (from ${proxy.source}): ${code}; check the proxy address or unset ${proxy.source}`, { cause: error });
      }
      if (status !== 200) {
        socket.destroy();
        const answer = status === undefined ? 'no answer' : `HTTP ${status}${statusText ? ` ${statusText}` : ''}`;
        const fix = status === 407 || status === 401 ? 'put user:password in the proxy URL' : 'ask for the host to be allowed, or add it to NO_PROXY if it is reachable directly';
        throw new SsmProxyError('network', `the proxy ${proxy.label} (from ${proxy.source}) refused CONNECT to ${host}:${port} with ${answer}; ${fix}`);
      }
      return socket;
    }
  }
  const agent = new RoutingAgent({ keepAlive: true, maxSockets: 50 });
  return { http: agent, https: agent };
}
