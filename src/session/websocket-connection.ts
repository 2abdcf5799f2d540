import type { Agent } from 'node:http';
import type { AwsCredentialIdentity } from '@smithy/types';
import { DataChannelConnection } from '../transport/data-channel-connection.js';
import type { ConnectionFactory } from './run-session.js';

export interface WebsocketConnectionOptions {
  region: string;
  /** Resolved afresh for every dial (pitfall 17). */
  credentials: () => Promise<AwsCredentialIdentity>;
  /** Identifies this client across the session's sockets (OpenDataChannelInput ClientId). */
  clientId: string;
  /** Proxy / CA agent for a websocket URL; undefined = Node's default. */
  agentFor?: (url: URL) => Agent | undefined;
  /** `--ssmmessages-endpoint` (PrivateLink). */
  ssmmessagesEndpoint?: URL | undefined;
}

/** The production connection: a SigV4-signed websocket to the StreamUrl (transport/). */
export function websocketConnection(options: WebsocketConnectionOptions): ConnectionFactory {
  return (setup) =>
    new DataChannelConnection({
      ...setup,
      region: options.region,
      clientId: options.clientId,
      credentials: options.credentials,
      ...(options.agentFor ? { agentFor: options.agentFor } : {}),
      ssmmessagesEndpoint: options.ssmmessagesEndpoint,
    });
}
