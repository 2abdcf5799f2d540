import assert from 'node:assert/strict';
import { connect, createServer, type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { compareVersions, isNewerThan } from '../../src/session/forward/agent-version.js';
import { createPortForwardKind } from '../../src/session/forward/forward-kind.js';
import { LocalListener } from '../../src/session/forward/local-listener.js';
import { SsmProxyError } from '../../src/errors.js';
import { seededBytes } from '../helpers/prng.js';
import { ManualScheduler } from '../helpers/manual-scheduler.js';
import { DestinationServer, exchange, sha256, waitUntil } from './helpers.js';
import { LoopbackSession } from './loopback-session.js';

interface Tunnel {
  session: LoopbackSession;
  listener: LocalListener;
  readyLines: string[];
  bufferedBytes(): number;
}

async function openTunnel(destination: () => { host: string; port: number }, options: { budgetSlabs?: number; slabBytes?: number; windowMessages?: number; agentVersion?: string } = {}): Promise<Tunnel> {
  const listener = await LocalListener.open('127.0.0.1', 0);
  const readyLines: string[] = [];
  const session = new LoopbackSession({
    factory: createPortForwardKind({
      listener,
      destination: 'db.internal:5432',
      onReady: (ready) => readyLines.push(`${ready.mode} ${ready.agentVersion}`),
      ...(options.budgetSlabs ? { budgetSlabs: options.budgetSlabs } : {}),
      ...(options.slabBytes ? { slabBytes: options.slabBytes } : {}),
    }),
    destination,
    ...(options.windowMessages ? { windowMessages: options.windowMessages } : {}),
    ...(options.agentVersion ? { agentVersion: options.agentVersion } : {}),
  });
  const kind = session.kind as unknown as { bufferedBytes: number };
  return { session, listener, readyLines, bufferedBytes: () => kind.bufferedBytes };
}

describe('agent version gates', () => {
  it('compares dotted versions numerically, missing parts as 0, garbage as not newer', () => {
    assert.equal(compareVersions('3.0.196.0', '3.0.196.0'), 0);
    assert.equal(compareVersions('3.0.196.1', '3.0.196.0'), 1);
    assert.equal(compareVersions('3.0.1000.0', '3.0.196.0'), 1);
    assert.equal(compareVersions('3.0', '3.0.0.0'), 0);
    assert.equal(compareVersions('2.99.999.9', '3.0.196.0'), -1);
    assert.equal(isNewerThan('', '3.0.196.0'), false);
    assert.equal(isNewerThan('3.x', '3.0.196.0'), false);
    assert.equal(isNewerThan('3.3.987.0', '3.0.196.0'), true);
  });
});

describe('multiplexed port forwarding against the fake agent (in memory)', () => {
  let destination: DestinationServer;
  before(async () => {
    destination = await DestinationServer.start();
  });
  after(() => destination.close());

  it('carries 20 concurrent connections over one smux session, every byte right, every stream closed', async () => {
    const tunnel = await openTunnel(() => ({ host: '127.0.0.1', port: destination.port }), { windowMessages: 32 });
    try {
      assert.deepEqual(tunnel.readyLines, ['multiplexed 3.3.987.0']);
      const sizes = Array.from({ length: 20 }, (_, i) => [(i * 7919) % 300_000, (i * 104_729) % 2_000_000] as const);
      const results = await Promise.all(sizes.map(([up, down], i) => exchange(tunnel.listener.port, up, down, 100 + i)));
      results.forEach((result, i) => {
        assert.equal(result.echoedSha, result.uploadSha, `connection ${i} upload`);
        assert.equal(sha256(result.download), sha256(seededBytes(sizes[i]![1], 100 + i)), `connection ${i} download`);
      });
      assert.equal(tunnel.session.agent.stats.streamsOpened, 20);
      await waitUntil(() => tunnel.session.agent.stats.open === 0, 5000, 'the agent to close every destination connection');
      await waitUntil(() => tunnel.bufferedBytes() === 0, 5000, 'every slab to return to the budget');
      assert.deepEqual(tunnel.session.ends, []);
    } finally {
      await tunnel.session.close();
    }
  });

  it('300 short connections, 30 at a time, leave no stream, slab or destination connection behind', async () => {
    const tunnel = await openTunnel(() => ({ host: '127.0.0.1', port: destination.port }));
    try {
      for (let batch = 0; batch < 10; batch++) {
        const results = await Promise.all(Array.from({ length: 30 }, (_, i) => exchange(tunnel.listener.port, 50, 2000, batch * 100 + i)));
        for (const result of results) assert.equal(result.echoedSha, result.uploadSha);
      }
      const kind = tunnel.session.kind as unknown as { openConnections: number };
      await waitUntil(() => kind.openConnections === 0 && tunnel.session.agent.stats.open === 0, 5000, 'every stream to close');
      assert.equal(tunnel.bufferedBytes(), 0);
      assert.equal(tunnel.session.agent.stats.streamsOpened, 300);
    } finally {
      await tunnel.session.close();
    }
  });

  it('a destination that refuses closes that connection alone, with a warning naming host:port', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const refusedPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    let refuse = false;
    const tunnel = await openTunnel(() => ({ host: '127.0.0.1', port: refuse ? refusedPort : destination.port }));
    try {
      const working = exchange(tunnel.listener.port, 1000, 3_000_000, 7, { readDelayMs: 50 });
      await waitUntil(() => tunnel.session.agent.stats.streamsOpened === 1 && tunnel.session.agent.stats.open === 1, 5000, 'the first stream');
      refuse = true;
      const refused = await new Promise<{ bytes: number; ended: boolean }>((resolve) => {
        const socket = connect({ host: '127.0.0.1', port: tunnel.listener.port });
        let bytes = 0;
        socket.on('data', (chunk: Buffer) => (bytes += chunk.length));
        socket.on('end', () => resolve({ bytes, ended: true }));
        socket.on('error', () => resolve({ bytes, ended: false }));
        socket.write('hello');
      });
      refuse = false;
      assert.deepEqual(refused, { bytes: 0, ended: true });
      const result = await working;
      assert.equal(sha256(result.download), sha256(seededBytes(3_000_000, 7)));
      const again = await exchange(tunnel.listener.port, 10, 10, 8);
      assert.equal(again.echoedSha, again.uploadSha);
      await waitUntil(() => tunnel.session.lines.some((line) => line.includes('could not connect to db.internal:5432')), 3000, 'the warning');
      const warning = tunnel.session.lines.find((line) => line.includes('could not connect'))!;
      assert.match(warning, /^ssm-proxy: warning: connection from 127\.0\.0\.1:\d+ was closed: the agent on i-0123456789abcdef0 could not connect to db\.internal:5432; the tunnel stays up\n$/);
      assert.equal(tunnel.session.agent.stats.dialFailures, 1);
      assert.deepEqual(tunnel.session.ends, []);
    } finally {
      await tunnel.session.close();
    }
  });

  it('a reader that stops reading holds the session at the output budget; nothing is lost and memory stays bounded', async () => {
    const slabBytes = 16 * 1024;
    const budgetSlabs = 16; // 256 KiB
    const tunnel = await openTunnel(() => ({ host: '127.0.0.1', port: destination.port }), { slabBytes, budgetSlabs });
    try {
      let peak = 0;
      const sampler = setInterval(() => (peak = Math.max(peak, tunnel.bufferedBytes())), 1);
      const stalled = exchange(tunnel.listener.port, 10, 8_000_000, 21, { readDelayMs: 1500 });
      const other = exchange(tunnel.listener.port, 10, 500_000, 22);
      await waitUntil(() => tunnel.session.paused, 5000, 'the session to pause incoming data');
      const [slow, fast] = await Promise.all([stalled, other]);
      clearInterval(sampler);
      assert.equal(sha256(slow.download), sha256(seededBytes(8_000_000, 21)));
      assert.equal(sha256(fast.download), sha256(seededBytes(500_000, 22)));
      assert.ok(tunnel.session.pauses >= 1);
      // The budget, plus the slab in hand when it was reached and one a message may straddle into.
      assert.ok(peak <= (budgetSlabs + 2) * slabBytes, `peak ${peak} bytes held for local readers`);
      assert.ok(peak >= budgetSlabs * slabBytes, `the budget was reached (peak ${peak})`);
      assert.equal(tunnel.session.paused, false);
    } finally {
      await tunnel.session.close();
    }
  });

  it("a client's half-close travels as FIN: the agent closes the destination and FINs back", async () => {
    const tunnel = await openTunnel(() => ({ host: '127.0.0.1', port: destination.port }));
    try {
      const ended = await new Promise<Buffer>((resolve, reject) => {
        const socket = connect({ host: '127.0.0.1', port: tunnel.listener.port, allowHalfOpen: true });
        const chunks: Buffer[] = [];
        socket.on('data', (chunk: Buffer) => chunks.push(chunk));
        socket.on('end', () => {
          resolve(Buffer.concat(chunks));
          socket.end();
        });
        socket.on('error', reject);
        socket.end('5 0 1\nabc'); // promises 5 bytes, sends 3, then EOF
      });
      assert.equal(ended.length, 0, 'the destination never answered: the agent closed it on FIN');
      await waitUntil(() => tunnel.session.agent.stats.clientFins === 1 && tunnel.session.agent.stats.open === 0, 3000, 'the agent to see the FIN');
    } finally {
      await tunnel.session.close();
    }
  });

  it('a broken smux stream from the agent ends the session as a protocol failure', async () => {
    const tunnel = await openTunnel(() => ({ host: '127.0.0.1', port: destination.port }));
    try {
      tunnel.session.kind.receive(1, Buffer.from([2, 0, 0, 0, 3, 0, 0, 0]));
      assert.equal(tunnel.session.ends.length, 1);
      const end = tunnel.session.ends[0]!;
      assert.equal(end.reason, 'failed');
      assert.ok(end.reason === 'failed' && end.error instanceof SsmProxyError && end.error.kind === 'protocol');
      assert.match(end.reason === 'failed' ? end.error.message : '', /smux stream is broken: smux frame of version 2/);
    } finally {
      await tunnel.session.close();
    }
  });

  it('sends a smux NOP every 10 s to agents up to 3.1.1511.0 only (newer ones expect none, §16.1)', async () => {
    for (const [agentVersion, expected] of [['3.1.1511.0', 3], ['3.1.1511.1', 0], ['3.0.196.1', 3]] as const) {
      const listener = await LocalListener.open('127.0.0.1', 0);
      const scheduler = new ManualScheduler();
      const session = new LoopbackSession({
        factory: createPortForwardKind({ listener, destination: 'db.internal:5432', onReady: () => {} }),
        destination: () => ({ host: '127.0.0.1', port: destination.port }),
        agentVersion,
        scheduler,
      });
      for (let second = 0; second < 30; second++) {
        scheduler.advance(1000);
        await new Promise((resolve) => setImmediate(resolve));
      }
      await waitUntil(() => session.agent.stats.nops === expected, 2000, `${expected} NOPs for agent ${agentVersion}`);
      session.kind.stopInput();
      session.kind.dispose();
      session.agent.dispose();
    }
  });

  it('an agent not newer than 3.0.196.0 gets basic mode', async () => {
    const listener = await LocalListener.open('127.0.0.1', 0);
    const modes: string[] = [];
    const session = new LoopbackSession({
      factory: createPortForwardKind({ listener, destination: 'db.internal:5432', onReady: (ready) => modes.push(ready.mode) }),
      destination: () => ({ host: '127.0.0.1', port: destination.port }),
      agentVersion: '3.0.196.0',
    });
    session.kind.stopInput();
    session.kind.dispose();
    session.agent.dispose();
    assert.deepEqual(modes, ['basic']);
  });

  it('connections made before the stream opens wait and are then carried', async () => {
    const listener = await LocalListener.open('127.0.0.1', 0);
    const early = exchange(listener.port, 100, 100_000, 31);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const session = new LoopbackSession({
      factory: createPortForwardKind({ listener, destination: 'db.internal:5432', onReady: () => {} }),
      destination: () => ({ host: '127.0.0.1', port: destination.port }),
    });
    try {
      const result = await early;
      assert.equal(result.echoedSha, result.uploadSha);
      assert.equal(sha256(result.download), sha256(seededBytes(100_000, 31)));
    } finally {
      await session.close();
    }
  });
});

describe('local listener', () => {
  it('a port in use is one clear line, exit kind io', async () => {
    const first = await LocalListener.open('127.0.0.1', 0);
    try {
      await assert.rejects(LocalListener.open('127.0.0.1', first.port), (error: unknown) => {
        assert.ok(error instanceof SsmProxyError);
        assert.equal(error.kind, 'io');
        assert.equal(error.message, `cannot listen on 127.0.0.1:${first.port}: the port is in use; pick another --local-port, or 0 for a free one`);
        return true;
      });
    } finally {
      first.close();
    }
  });
});
