import { connect, createServer, type Server, type Socket } from 'node:net';

/** A TCP relay to 127.0.0.1:targetPort that accepts connections only from `onlyFrom` (a proxy's Bind address). */
export interface Gate {
  port: number;
  url: string;
  accepted: number;
  refused: number;
  close(): Promise<void>;
}

export async function startGate(targetPort: number, onlyFrom: string): Promise<Gate> {
  const sockets = new Set<Socket>();
  const gate = { accepted: 0, refused: 0 } as Gate;
  const server: Server = createServer((client) => {
    client.on('error', () => undefined);
    if (client.remoteAddress !== onlyFrom) {
      gate.refused++;
      client.destroy();
      return;
    }
    gate.accepted++;
    const upstream = connect(targetPort, '127.0.0.1');
    upstream.on('error', () => client.destroy());
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  gate.port = (server.address() as { port: number }).port;
  gate.url = `http://127.0.0.1:${gate.port}`;
  gate.close = async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  };
  return gate;
}
