import type { Agent } from 'node:http';
import type { AwsCredentialIdentity } from '@smithy/types';
import { DataChannelConnection } from '../transport/data-channel-connection.js';
import { streamHostFor, WarmSocket } from '../transport/warm-socket.js';
import type { ConnectionFactory } from './run-session.js';

export interface WebsocketConnectionOptions {
  region: string;
  /** Resolved afresh for every dial (docs/protocol.md pitfall 17). */
  credentials: () => Promise<AwsCredentialIdentity>;
  /** Identifies this client across the session's sockets (OpenDataChannelInput ClientId). */
  clientId: string;
  /** Proxy / CA agent for a websocket URL; undefined = Node's default. */
  agentFor?: (url: URL) => Agent | undefined;
  /** `--ssmmessages-endpoint` (PrivateLink). */
  ssmmessagesEndpoint?: URL | undefined;
  /** false: do not open the connection ahead of StartSession (default true). */
  warmUp?: boolean;
  /**
   * The CA bundle when `agentFor`'s agent carries only that (no proxy): the connection opened
   * ahead then verifies against it and stands in for the agent. Without it, an agent means a proxy
   * and nothing is opened ahead.
   */
  warmUpCa?: string[];
  /** A connection to the StreamUrl's host opened earlier still (cli/session-setup.ts); warmUp keeps it. */
  openedAhead?: WarmSocket;
}

/**
 * The production connection: a SigV4-signed websocket to the StreamUrl (transport/). While
 * StartSession is on the wire it opens TCP+TLS to where the StreamUrl will point
 * (ssmmessages.REGION.amazonaws.com, or the PrivateLink endpoint), unless a proxy is in play
 * (with a custom CA bundle, verified against it); the dial uses that connection if the StreamUrl
 * goes there, and closes it otherwise.
 */
export function websocketConnection(options: WebsocketConnectionOptions): ConnectionFactory {
  let warm: WarmSocket | undefined = options.openedAhead;
  const takeWarmSocket = (url: URL) => {
    const socket = warm?.take(url);
    warm = undefined;
    return socket;
  };
  const factory: ConnectionFactory = (setup) =>
    new DataChannelConnection({
      ...setup,
      region: options.region,
      clientId: options.clientId,
      credentials: options.credentials,
      ...(options.agentFor ? { agentFor: options.agentFor } : {}),
      ssmmessagesEndpoint: options.ssmmessagesEndpoint,
      takeWarmSocket,
    });
  factory.warmUp = () => {
    if (options.warmUp === false || warm) return;
    const url = streamHostFor(options.region, options.ssmmessagesEndpoint);
    if (options.agentFor?.(url) && !options.warmUpCa) return; // a proxy: its agent dials
    warm = new WarmSocket(url, options.warmUpCa);
  };
  factory.coolDown = () => {
    warm?.discard();
    warm = undefined;
  };
  return factory;
}
