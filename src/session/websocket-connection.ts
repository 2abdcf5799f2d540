import type { Agent } from 'node:http';
import type { AwsCredentialIdentity } from '@smithy/types';
import { DataChannelConnection } from '../transport/data-channel-connection.js';
import type { WarmSocket } from '../transport/warm-socket.js';
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
  /** A connection to the StreamUrl's host opened ahead (transport/warm-socket.ts `openStreamHostAhead`). */
  openedAhead?: WarmSocket;
}

/**
 * The production connection: a SigV4-signed websocket to the StreamUrl (transport/). The first
 * dial uses the connection opened ahead if the StreamUrl goes there; it is closed otherwise, and
 * when the session ends unused.
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
  factory.coolDown = () => {
    warm?.discard();
    warm = undefined;
  };
  return factory;
}
