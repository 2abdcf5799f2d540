/**
 * A fake of the SSM API + MGS + SSM Agent on one loopback port, speaking the real wire protocol
 * (docs/protocol.md §12). Tests point ssm-proxy at `endpointUrl`. In this folder's comments, "§N"
 * and "pitfall N" refer to docs/protocol.md.
 */
import { createServer, type Server } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { createApiHandler } from './api-server.js';
import { DataChannelServer } from './data-channel-server.js';
import { resolveOptions, type FakeSsmOptions, type ResolvedFakeSsmOptions } from './options.js';
import { createRecords, type FakeSsmRecords } from './records.js';
import { SessionStore, type SessionEntry } from './session-store.js';

export type { FakeSsmOptions, ResolvedFakeSsmOptions } from './options.js';
export type * from './records.js';

export interface FakeSsmServerOptions {
  /** Serve https:// and wss:// with this key and certificate (PEM) instead of http:// and ws://. */
  tls?: { key: string | Buffer; cert: string | Buffer };
  /** Accept TCP connections only from this source address (e.g. a proxy's Bind address); drop others. */
  onlyFrom?: string;
}

export interface FakeSsm {
  port: number;
  /** http://127.0.0.1:<port> (https:// with `tls`) — pass as --endpoint-url. */
  endpointUrl: string;
  /** Source address of every TCP connection accepted or dropped, in order. */
  clientAddresses: string[];
  /** The resolved knobs; read live, so tests may change them between sessions. */
  options: ResolvedFakeSsmOptions;
  records: FakeSsmRecords;
  sessions(): SessionEntry[];
  /** Polls `predicate` until true; rejects with `what` after timeoutMs. */
  waitFor(predicate: () => boolean, timeoutMs: number, what: string): Promise<void>;
  close(): Promise<void>;
}

export async function startFakeSsm(input: FakeSsmOptions & FakeSsmServerOptions = {}): Promise<FakeSsm> {
  const { tls, onlyFrom, ...knobs } = input;
  const options = resolveOptions(knobs);
  const scheme = tls ? 'https' : 'http';
  const records = createRecords();
  const store = new SessionStore();
  let port = 0;
  const dataChannel = new DataChannelServer({ options, records, store });
  const handler = createApiHandler({
    options,
    records,
    store,
    dataChannelBase: () => `${tls ? 'wss' : 'ws'}://127.0.0.1:${port}`,
    terminate: (entry) => {
      if (entry.agent) entry.agent.end('terminate-api', '');
      else {
        entry.terminated = true;
        records.sessionEnds.push({ sessionId: entry.sessionId, reason: 'terminate-api', output: '' });
      }
    },
  });
  const server: Server = tls ? createTlsServer({ key: tls.key, cert: tls.cert }, handler) : createServer(handler);
  const sockets = new Set<Socket>();
  const clientAddresses: string[] = [];
  server.on('connection', (socket: Socket) => {
    clientAddresses.push(socket.remoteAddress ?? '');
    if (onlyFrom && socket.remoteAddress !== onlyFrom) {
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('upgrade', dataChannel.handleUpgrade);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;

  let closed: Promise<void> | undefined;
  return {
    port,
    endpointUrl: `${scheme}://127.0.0.1:${port}`,
    clientAddresses,
    options,
    records,
    sessions: () => store.all(),
    waitFor: (predicate, timeoutMs, what) => waitFor(predicate, timeoutMs, what),
    close: () =>
      (closed ??= (async () => {
        for (const entry of store.all()) entry.agent?.end('server-closed', '');
        dataChannel.terminateAll();
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const socket of sockets) socket.destroy();
        await stopped;
      })()),
  };
}

export async function waitFor(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
