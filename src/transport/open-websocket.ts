import type { Agent } from 'node:http';
import { createConnection } from 'node:net';
import type { Duplex } from 'node:stream';
import WebSocket from 'ws';
import { SsmProxyError } from '../errors.js';
import { describeTlsFailure, tlsErrorCode } from '../network/network-errors.js';

export interface OpenWebSocketOptions {
  headers: Record<string, string>;
  /** Hard deadline for TCP, TLS, proxy CONNECT and the upgrade together: a stalled upgrade is a network failure. */
  handshakeTimeoutMs: number;
  /** HTTP(S) agent for proxies or custom CAs. */
  agent?: Agent;
  /** Gives up at once (rejecting with the signal's reason) when aborted: a signal, the session ending. */
  signal?: AbortSignal;
  /** A connection already open to the URL's host (warm-socket.ts); without an agent only. */
  socket?: Duplex;
}

/**
 * Dials the data-channel websocket and resolves once it is open. Failures become one-line
 * SsmProxyErrors: a refused upgrade says the HTTP status (403: signature or permission),
 * anything else, a stalled upgrade included, is a network error. The URL's query (it holds no
 * secret) is left out of messages.
 */
export function openWebSocket(url: string, options: OpenWebSocketOptions): Promise<WebSocket> {
  const where = describeEndpoint(url);
  return new Promise((resolve, reject) => {
    const { signal } = options;
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const socket = new WebSocket(url, {
      headers: options.headers,
      perMessageDeflate: false,
      ...(options.agent ? { agent: options.agent } : {}),
      // Asked once: ws follows no redirects unless told to.
      ...(options.socket && !options.agent ? { createConnection: (() => options.socket) as unknown as typeof createConnection } : {}),
    });
    let settled = false;
    const onAbort = () => abandon(signal?.reason);
    // ws's own handshakeTimeout is an idle timeout that a trickling peer can keep alive; this is a deadline.
    const timer = setTimeout(() => {
      const seconds = Math.round(options.handshakeTimeoutMs / 100) / 10;
      abandon(new SsmProxyError('network', `the data channel at ${where} did not complete the websocket upgrade within ${seconds} s; check the network path to it`));
    }, options.handshakeTimeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    const abandon = (error: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.removeAllListeners();
      socket.on('error', () => {}); // late errors of an abandoned socket are not news
      socket.terminate();
      reject(error);
    };
    const fail = (error: SsmProxyError) => abandon(error);
    socket.once('open', () => {
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.removeAllListeners('unexpected-response');
      resolve(socket);
    });
    socket.once('unexpected-response', (_request, response) => {
      const status = response.statusCode ?? 0;
      response.resume();
      const kind = status === 401 || status === 403 ? 'access-denied' : 'network';
      fail(new SsmProxyError(kind, `the data channel at ${where} refused the websocket upgrade with HTTP ${status}`));
    });
    socket.once('error', (error: Error & { code?: string }) => {
      if (error instanceof SsmProxyError) return fail(error); // the proxy's refusal, already one line
      const tlsCode = tlsErrorCode(error);
      if (tlsCode) {
        const failure = describeTlsFailure(tlsCode, `the data channel at ${where}`);
        return fail(new SsmProxyError(failure.kind, `cannot open the data channel: ${failure.message}`));
      }
      fail(new SsmProxyError('network', `cannot open the data channel at ${where}: ${error.code ?? error.message}`));
    });
  });
}

/** scheme://host/path without the query string. */
export function describeEndpoint(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    return 'an invalid URL';
  }
}
