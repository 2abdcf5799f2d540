/**
 * A fake of the SSM API + MGS + SSM Agent on one loopback port, speaking the real wire protocol
 * (see ../../../shared/ssm-data-channel.md §12). Tests point ssm-proxy at `endpointUrl`.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createApiHandler } from './api-server.js';
import { DataChannelServer } from './data-channel-server.js';
import { resolveOptions, type FakeSsmOptions, type ResolvedFakeSsmOptions } from './options.js';
import { createRecords, type FakeSsmRecords } from './records.js';
import { SessionStore, type SessionEntry } from './session-store.js';

export type { FakeSsmOptions, ResolvedFakeSsmOptions } from './options.js';
export type * from './records.js';

export interface FakeSsm {
  port: number;
  /** http://127.0.0.1:<port> — pass as --endpoint-url. */
  endpointUrl: string;
  /** The resolved knobs; read live, so tests may change them between sessions. */
  options: ResolvedFakeSsmOptions;
  records: FakeSsmRecords;
  sessions(): SessionEntry[];
  /** Polls `predicate` until true; rejects with `what` after timeoutMs. */
  waitFor(predicate: () => boolean, timeoutMs: number, what: string): Promise<void>;
  close(): Promise<void>;
}

export async function startFakeSsm(input: FakeSsmOptions = {}): Promise<FakeSsm> {
  const options = resolveOptions(input);
  const records = createRecords();
  const store = new SessionStore();
  let port = 0;
  const dataChannel = new DataChannelServer({ options, records, store });
  const server: Server = createServer(
    createApiHandler({
      options,
      records,
      store,
      dataChannelBase: () => `ws://127.0.0.1:${port}`,
      terminate: (entry) => {
        if (entry.agent) entry.agent.end('terminate-api', '');
        else {
          entry.terminated = true;
          records.sessionEnds.push({ sessionId: entry.sessionId, reason: 'terminate-api', output: '' });
        }
      },
    }),
  );
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
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
    endpointUrl: `http://127.0.0.1:${port}`,
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
