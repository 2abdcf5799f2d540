import assert from 'node:assert/strict';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../../src/log.js';
import { decodeFlag, FlagValue, PayloadType } from '../../src/protocol/index.js';
import { systemScheduler } from '../../src/scheduler.js';
import { BasicForwarder } from '../../src/session/forward/basic-forwarder.js';
import { IncomingGate } from '../../src/session/forward/forwarder.js';
import type { KindEnd, SessionControl } from '../../src/session/session-kind.js';
import { waitUntil } from './helpers.js';

/** A SessionControl that records what the forwarder sends. */
function stubSession(): SessionControl & { sent: { payloadType: number; payload: Buffer }[]; paused: boolean; lines: string[] } {
  const lines: string[] = [];
  const stub = {
    sessionId: 's',
    target: 'i-0123456789abcdef0',
    clientVersion: '1.2.764.0',
    log: createLogger({ verbosity: 2, write: (line) => lines.push(line) }),
    scheduler: systemScheduler,
    signal: new AbortController().signal,
    sent: [] as { payloadType: number; payload: Buffer }[],
    paused: false,
    lines,
    hasRoom: true,
    send(payloadType: number, payload: Buffer) {
      stub.sent.push({ payloadType, payload: Buffer.from(payload) });
      return true;
    },
    pauseIncoming() {
      stub.paused = true;
    },
    resumeIncoming() {
      stub.paused = false;
    },
    end(_reason: KindEnd) {},
  };
  return stub;
}

describe('basic forwarding (old agents)', () => {
  let server: Server;
  const accepted: Socket[] = [];
  before(async () => {
    server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (socket) => accepted.push(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  /** A client socket and the server side the forwarder gets. */
  async function pair(): Promise<{ client: Socket; local: Socket; received: () => string }> {
    const count = accepted.length;
    const client = connect({ host: '127.0.0.1', port: (server.address() as AddressInfo).port });
    let text = '';
    client.on('data', (chunk: Buffer) => (text += chunk.toString()));
    client.on('error', () => undefined);
    await waitUntil(() => accepted.length > count, 3000, 'the connection');
    return { client, local: accepted[count]!, received: () => text };
  }

  it('keeps early output for the first connection, drops the previous destination tail after DisconnectToPort', async () => {
    const session = stubSession();
    const gate = new IncomingGate(() => session.pauseIncoming(), () => session.resumeIncoming());
    const forwarder = new BasicForwarder({ session, gate, destination: 'db.internal:5432' });
    try {
      forwarder.receive(PayloadType.output, Buffer.from('banner;'));
      assert.equal(session.paused, true, 'no connection yet: stop reading');

      const first = await pair();
      forwarder.accept(first.local);
      assert.equal(session.paused, false);
      forwarder.receive(PayloadType.output, Buffer.from('one;'));
      await waitUntil(() => first.received() === 'banner;one;', 3000, 'the first connection to get its bytes');
      first.client.write('q1');
      await waitUntil(() => session.sent.some((m) => m.payload.toString() === 'q1'), 3000, 'the request to be sent');

      first.client.destroy();
      await waitUntil(() => session.sent.some((m) => m.payloadType === PayloadType.flag), 3000, 'DisconnectToPort');
      const flag = session.sent.find((m) => m.payloadType === PayloadType.flag)!;
      assert.deepEqual(decodeFlag(flag.payload), { ok: true, value: FlagValue.disconnectToPort });

      const second = await pair();
      forwarder.accept(second.local);
      forwarder.receive(PayloadType.output, Buffer.from('stale;')); // the old destination's tail
      second.client.write('q2');
      await waitUntil(() => session.sent.some((m) => m.payload.toString() === 'q2'), 3000, 'the second request');
      forwarder.receive(PayloadType.output, Buffer.from('two;'));
      await waitUntil(() => second.received() === 'two;', 3000, "the second connection's answer");
      assert.match(forwarder.summary(), /2 connections, one at a time \(basic mode\), 6 stale bytes discarded/);
      second.client.destroy();
    } finally {
      forwarder.dispose();
    }
  });

  it('serves a second connection only when the first closes, and warns once', async () => {
    const session = stubSession();
    const gate = new IncomingGate(() => session.pauseIncoming(), () => session.resumeIncoming());
    const forwarder = new BasicForwarder({ session, gate, destination: 'db.internal:5432' });
    try {
      const first = await pair();
      forwarder.accept(first.local);
      const second = await pair();
      forwarder.accept(second.local);
      second.client.write('waiting');
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(session.sent.length, 0, 'the waiting connection is not read');
      assert.equal(forwarder.openConnections, 2);
      assert.equal(session.lines.filter((line) => line.includes('served one at a time')).length, 1);
      first.client.end();
      await waitUntil(() => session.sent.some((m) => m.payload.toString() === 'waiting'), 3000, 'the second connection to be served');
      second.client.destroy();
    } finally {
      forwarder.dispose();
    }
  });
});
