import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

/**
 * A TCP (and TLS) connection to the data-channel host, opened while StartSession is still on the
 * wire, so the websocket upgrade does not pay for those round trips afterwards. Only for a direct
 * connection (a proxy means its agent dials); `ca` is the CA bundle in effect, if any, and the
 * TLS handshake verifies against it as the bundle's agent would. Unused, it neither keeps the
 * process alive nor survives `discard()`.
 */
export class WarmSocket {
  private socket: Socket | undefined;
  private readonly key: string;

  constructor(url: URL, ca?: string[]) {
    this.key = endpointKey(url);
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    const port = Number(url.port) || (url.protocol === 'wss:' ? 443 : 80);
    const socket =
      url.protocol === 'wss:'
        ? tlsConnect({ host, port, ...(isIP(host) ? {} : { servername: host }), ALPNProtocols: ['http/1.1'], ...(ca ? { ca } : {}) })
        : netConnect({ host, port });
    socket.on('error', () => this.discard()); // the dial then opens its own connection and reports
    socket.unref();
    this.socket = socket;
  }

  /**
   * The connection, when it goes where `url` goes and is still usable; it is then the caller's.
   * Otherwise it is closed and undefined comes back. Either way, this object is spent.
   */
  take(url: URL): Socket | undefined {
    const socket = this.socket;
    this.socket = undefined;
    if (!socket) return undefined;
    if (socket.destroyed || endpointKey(url) !== this.key) {
      socket.destroy();
      return undefined;
    }
    socket.removeAllListeners('error');
    socket.ref();
    return socket;
  }

  discard(): void {
    this.socket?.destroy();
    this.socket = undefined;
  }
}

function endpointKey(url: URL): string {
  const port = Number(url.port) || (url.protocol === 'wss:' ? 443 : 80);
  return `${url.protocol}//${url.hostname}:${port}`;
}

/** Where the data channel's StreamUrl points: the PrivateLink override, else the region's ssmmessages host. */
export function streamHostFor(region: string, override?: URL): URL {
  return new URL(override?.href ?? `wss://ssmmessages.${region}.amazonaws.com/`);
}

/**
 * Opens the data channel's host ahead, when it is certain (`hostCertain`: the PrivateLink override,
 * or AWS's own endpoints) and connections go direct: never when a proxy is set, whose agent must
 * dial. `ca` is the CA bundle in effect, if any.
 */
export function openStreamHostAhead(options: { region: string; override?: URL | undefined; hostCertain: boolean; proxy: boolean; ca?: string[] | undefined }): WarmSocket | undefined {
  if (!options.hostCertain || options.proxy) return undefined;
  return new WarmSocket(streamHostFor(options.region, options.override), options.ca);
}
