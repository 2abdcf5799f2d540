/** Shared fixtures for the fake's unit tests: a TCP echo target and an SDK client. */
import { SSMClient, StartSessionCommand } from '@aws-sdk/client-ssm';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { FakeSsm } from './index.js';
import { TEST_CREDENTIALS } from './scripted-client.js';

export interface TcpTarget {
  port: number;
  close(): Promise<void>;
}

/** A TCP server on 127.0.0.1; `onConnection` decides what it does (echo by default). */
export async function startTcpTarget(onConnection: (socket: Socket) => void = (s) => s.pipe(s)): Promise<TcpTarget> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    onConnection(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

export function ssmClient(fake: FakeSsm): SSMClient {
  return new SSMClient({
    region: 'us-east-1',
    endpoint: fake.endpointUrl,
    credentials: TEST_CREDENTIALS,
    maxAttempts: 1,
  });
}

export async function startSession(
  fake: FakeSsm,
  portNumber: number,
): Promise<{ SessionId: string; TokenValue: string; StreamUrl: string }> {
  const client = ssmClient(fake);
  try {
    const answer = await client.send(
      new StartSessionCommand({
        Target: 'i-0123456789abcdef0',
        DocumentName: 'AWS-StartSSHSession',
        Parameters: { portNumber: [String(portNumber)] },
      }),
    );
    return { SessionId: answer.SessionId!, TokenValue: answer.TokenValue!, StreamUrl: answer.StreamUrl! };
  } finally {
    client.destroy();
  }
}
