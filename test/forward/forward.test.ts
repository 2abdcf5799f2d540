/**
 * `ssm-proxy forward` as a user runs it: the built CLI, the fake SSM service playing the agent's
 * port plugin, curl and a local HTTP server as the far end. Run `npm run build` first.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { killAll } from '../e2e/processes.js';
import { curlParallel, HttpFixture, KeepAliveClient } from './http-fixture.js';
import { waitUntil } from './helpers.js';
import type { PortForwardAgent } from '../fake-ssm/port-forward-agent.js';
import { openTunnel, TARGET_ID, type Tunnel } from './tunnel.js';

const KiB = 1024;
const MiB = 1024 * KiB;

/** 1 KiB–16 MiB: mostly small, a few large, ~60 MB in all for 50 requests. */
const SIZES = [1 * KiB, 3 * KiB, 16 * KiB, 64 * KiB, 200 * KiB, 1 * MiB, 4 * MiB, 16 * MiB];
const fiftyPaths = Array.from({ length: 50 }, (_, i) => `/f/${i === 7 || i === 33 ? 7 : i % 7}`);

/** The fake agent's port plugin of the tunnel's (only) session. */
function forwardAgent(tunnel: Tunnel): PortForwardAgent | undefined {
  const agent = tunnel.fake.sessions()[0]?.agent;
  return agent && 'forward' in agent ? agent.forward : undefined;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('ssm-proxy forward (multiplexed, through the fake agent)', () => {
  let http: HttpFixture;
  before(async () => {
    http = await HttpFixture.start(SIZES);
  });
  after(async () => {
    await killAll();
    await http.close();
  });

  it('50 concurrent HTTP requests over one tunnel, every body right; an idle connection outlives the idle knob while others work', async () => {
    const idleMs = 2500;
    const tunnel = await openTunnel({
      fake: { idleTimeoutMs: idleMs, portForward: { destinations: { 'web.internal:80': `127.0.0.1:${http.port}` } } },
      args: [TARGET_ID, '80', '--host', 'web.internal'],
    });
    try {
      assert.match(tunnel.readyLine, new RegExp(`^forwarding 127\\.0\\.0\\.1:${tunnel.port} → ${TARGET_ID} → web\\.internal:80$`));
      assert.equal(tunnel.stdout(), '');
      const idle = await KeepAliveClient.open(tunnel.port);
      assert.equal((await idle.get('/f/0')).length, SIZES[0]);
      const idleSince = Date.now();

      const result = await curlParallel(tunnel.port, fiftyPaths);
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(result.shas, fiftyPaths.map((path) => http.files.get(path)!.sha));

      // Others keep working (resetting the session's idle timer) until the idle one has sat
      // out twice the knob.
      while (Date.now() - idleSince < 2 * idleMs) {
        const worker = await KeepAliveClient.open(tunnel.port);
        assert.equal((await worker.get('/f/2')).length, SIZES[2]);
        worker.close();
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
      const late = await idle.get('/f/3');
      assert.equal(late.equals(http.files.get('/f/3')!.body), true);
      idle.close();
      assert.deepEqual(tunnel.fake.records.sessionEnds, []);
      const agent = forwardAgent(tunnel)!;
      assert.equal(agent.mode, 'multiplexed');
      // curl opened its connections at once (--parallel-immediate) and the agent held them together.
      assert.ok(agent.mux!.stats.maxOpen >= 40, `at most ${agent.mux!.stats.maxOpen} destination connections at once`);
      assert.ok(agent.mux!.stats.streamsOpened >= 51, `streams opened: ${agent.mux!.stats.streamsOpened}`);
      assert.equal(agent.mux!.stats.nops, 0, 'no smux keep-alive towards a current agent');

      const stopped = await tunnel.stop('SIGINT');
      assert.equal(stopped.code, 130);
    } finally {
      await tunnel.close();
    }
  });

  it('a refused remote port fails that connection alone, with a warning naming host:port, while other streams run', async () => {
    const closedPort = await freePort();
    const tunnel = await openTunnel({
      fake: { portForward: { destinations: { 'db.internal:5432': `127.0.0.1:${http.port}` } } },
      args: [TARGET_ID, '5432', '--host', 'db.internal'],
    });
    try {
      const big = curlParallel(tunnel.port, ['/f/7', '/f/6'], 2);
      await waitUntil(() => (forwardAgent(tunnel)?.mux?.stats.dialled ?? 0) >= 2, 10_000, 'both transfers to be connected');
      tunnel.fake.options.portForward!.destinations!['db.internal:5432'] = `127.0.0.1:${closedPort}`;
      const refused = await new Promise<{ bytes: number; how: string }>((resolve) => {
        const socket = connect({ host: '127.0.0.1', port: tunnel.port });
        let bytes = 0;
        socket.on('data', (chunk: Buffer) => (bytes += chunk.length));
        socket.on('end', () => resolve({ bytes, how: 'end' }));
        socket.on('error', (error: NodeJS.ErrnoException) => resolve({ bytes, how: error.code ?? 'error' }));
        socket.write('GET /f/0 HTTP/1.1\r\nHost: x\r\n\r\n');
      });
      tunnel.fake.options.portForward!.destinations!['db.internal:5432'] = `127.0.0.1:${http.port}`;
      assert.deepEqual(refused, { bytes: 0, how: 'end' });
      const result = await big;
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(result.shas, [http.files.get('/f/7')!.sha, http.files.get('/f/6')!.sha]);
      await waitUntil(() => /could not connect to db\.internal:5432/.test(tunnel.stderr()), 5000, 'the warning');
      assert.match(
        tunnel.stderr(),
        new RegExp(`^ssm-proxy: warning: connection from 127\\.0\\.0\\.1:\\d+ was closed: the agent on ${TARGET_ID} could not connect to db\\.internal:5432; the tunnel stays up$`, 'm'),
      );
      const after = await curlParallel(tunnel.port, ['/f/4']);
      assert.deepEqual(after.shas, [http.files.get('/f/4')!.sha]);
      assert.equal(forwardAgent(tunnel)!.mux!.stats.dialFailures, 1);
      assert.deepEqual(tunnel.fake.records.sessionEnds, []);
    } finally {
      await tunnel.close();
    }
  });

  it('a websocket recycle during 20 concurrent transfers loses nothing, and the listener stays up', async () => {
    const tunnel = await openTunnel({
      fake: { recycleAfterBytes: 6 * MiB, portForward: { destinations: { [`localhost:8080`]: `127.0.0.1:${http.port}` } } },
      args: [TARGET_ID, '8080'],
    });
    try {
      assert.match(tunnel.readyLine, new RegExp(`→ ${TARGET_ID}:8080$`));
      const acrossTheDrops = await KeepAliveClient.open(tunnel.port);
      assert.ok((await acrossTheDrops.get('/f/1')).equals(http.files.get('/f/1')!.body));
      const paths = Array.from({ length: 20 }, (_, i) => `/f/${[5, 6, 4, 3][i % 4]}`);
      const result = await curlParallel(tunnel.port, paths, 20);
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(result.shas, paths.map((path) => http.files.get(path)!.sha));
      const connections = tunnel.fake.records.connections.filter((record) => record.tokenOk).length;
      assert.ok(connections >= 3, `websocket connections: ${connections}`);
      // A connection that was open (idle) across every recycle still works.
      assert.ok((await acrossTheDrops.get('/f/5')).equals(http.files.get('/f/5')!.body));
      acrossTheDrops.close();
      const later = await curlParallel(tunnel.port, ['/f/1']);
      assert.deepEqual(later.shas, [http.files.get('/f/1')!.sha]);
      assert.deepEqual(tunnel.fake.records.sessionEnds, []);
    } finally {
      await tunnel.close();
    }
  });

  it('a reader that stops reading holds the tunnel at its budget: memory stays bounded, nothing is lost', async () => {
    const tunnel = await openTunnel({
      fake: { portForward: { destinations: { 'web.internal:80': `127.0.0.1:${http.port}` } } },
      args: [TARGET_ID, '80', '--host', 'web.internal', '-vv'],
    });
    try {
      const rss = () => Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${tunnel.child.pid}/status`, 'utf8'))![1]) / 1024;
      await curlParallel(tunnel.port, ['/f/5']); // warm up
      const before = rss();
      let peak = before;
      const sampler = setInterval(() => (peak = Math.max(peak, rss())), 20);
      const stalled = await KeepAliveClient.open(tunnel.port);
      stalled.pause();
      const stalledBody = stalled.get('/f/7', 60_000);
      const others = curlParallel(tunnel.port, ['/f/6', '/f/5', '/f/4'], 3);
      await new Promise((resolve) => setTimeout(resolve, 2500));
      stalled.resume();
      const [body, rest] = await Promise.all([stalledBody, others]);
      clearInterval(sampler);
      assert.ok(body.equals(http.files.get('/f/7')!.body), 'the stalled reader got every byte');
      assert.deepEqual(rest.shas, ['/f/6', '/f/5', '/f/4'].map((path) => http.files.get(path)!.sha));
      assert.ok(peak - before < 20, `RSS grew by ${(peak - before).toFixed(1)} MB while a reader stalled`);
      assert.match(tunnel.stderr(), /holding incoming data: output budget full/);
      assert.match(tunnel.stderr(), /released: output budget full/);
      stalled.close();
    } finally {
      await tunnel.close();
    }
  });

  it("the fake's faults (loss, duplicates, reordering, corrupt digests both ways) leave every stream intact", async () => {
    const faults = { drop: 0.01, duplicate: 0.02, reorder: 0.02 };
    const tunnel = await openTunnel({
      fake: {
        faults: { seed: 15, serverToClient: faults, clientToServer: faults, corruptDigestEvery: 50 },
        portForward: { destinations: { 'web.internal:80': `127.0.0.1:${http.port}` } },
      },
      args: [TARGET_ID, '80', '--host', 'web.internal'],
    });
    try {
      const paths = Array.from({ length: 10 }, (_, i) => `/f/${[4, 3, 2, 1, 0][i % 5]}`);
      const result = await curlParallel(tunnel.port, paths, 10);
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(result.shas, paths.map((path) => http.files.get(path)!.sha));
      const { serverToClient, clientToServer } = tunnel.fake.records;
      assert.ok(serverToClient.dropped > 0 && serverToClient.duplicated > 0 && serverToClient.reordered > 0 && serverToClient.corrupted > 0);
      assert.ok(clientToServer.dropped > 0 && clientToServer.duplicated > 0);
      assert.deepEqual(tunnel.fake.records.sessionEnds, []);
    } finally {
      await tunnel.close();
    }
  });

  it('Ctrl-C with connections open ends the session on the service, closes the connections and exits 130', async () => {
    const tunnel = await openTunnel({
      fake: { agentPacing: 'realistic', portForward: { destinations: { 'web.internal:80': `127.0.0.1:${http.port}` } } },
      args: [TARGET_ID, '80', '--host', 'web.internal'],
    });
    try {
      const idle = await KeepAliveClient.open(tunnel.port);
      await idle.get('/f/0');
      const busy = await KeepAliveClient.open(tunnel.port);
      const download = busy.get('/f/7', 60_000).catch((error: Error) => error);
      await waitUntil(() => tunnel.fake.records.serverToClient.streamBytes > 200 * KiB, 10_000, 'the download to be under way');
      const stopped = await tunnel.stop('SIGINT', 10_000);
      assert.equal(stopped.code, 130);
      assert.ok(stopped.durationMs < 5000, `exit took ${Math.round(stopped.durationMs)} ms`);
      assert.ok((await download) instanceof Error, 'the cut download reports an error, not a short body');
      await waitUntil(() => idle.closed && busy.closed, 3000, 'both local connections to close');
      const ends = tunnel.fake.records.sessionEnds.map((end) => end.reason);
      assert.ok(ends.includes('terminate-flag') || ends.includes('terminate-api'), `session ends: ${ends.join(', ')}`);
      await waitUntil(() => forwardAgent(tunnel)!.mux!.stats.open === 0, 3000, 'the agent to close its destination connections');
      // The process group is gone: nothing of ssm-proxy is left.
      assert.throws(() => process.kill(-tunnel.child.pid!, 0), /ESRCH/);
    } finally {
      await tunnel.close();
    }
  });

  it('forwarding to the instance metadata address is refused by the agent: one line, exit 8', async () => {
    const tunnel = openTunnel({ args: [TARGET_ID, '80', '--host', '169.254.169.254'], readyTimeoutMs: 15_000 });
    // The refusal comes after the handshake, so the ready line may or may not have been printed.
    const outcome = await tunnel.then(
      async (open) => ({ exit: await open.exited, stderr: open.stderr(), close: () => open.close() }),
      (error: Error) => ({ exit: undefined, stderr: error.message, close: async () => {} }),
    );
    try {
      assert.match(outcome.stderr, /Forwarding to IP address 169\.254\.169\.254 is forbidden\./);
      if (outcome.exit) assert.equal(outcome.exit.code, 8);
    } finally {
      await outcome.close();
    }
  });
});

describe('ssm-proxy forward (basic mode, old agent)', () => {
  let http: HttpFixture;
  before(async () => {
    http = await HttpFixture.start(SIZES);
  });
  after(async () => {
    await killAll();
    await http.close();
  });

  it('serves connections one at a time with DisconnectToPort between them', async () => {
    const tunnel = await openTunnel({
      fake: { agentVersion: '3.0.196.0', portForward: { destinations: { 'web.internal:80': `127.0.0.1:${http.port}` } } },
      args: [TARGET_ID, '80', '--host', 'web.internal', '-v'],
    });
    try {
      const first = await KeepAliveClient.open(tunnel.port);
      assert.equal((await first.get('/f/5')).equals(http.files.get('/f/5')!.body), true);
      // A second connection waits while the first is open...
      const second = await KeepAliveClient.open(tunnel.port);
      const secondBody = second.get('/f/4');
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(forwardAgent(tunnel)!.basicDials, 1);
      // ...and is served once the first closes.
      first.close();
      assert.equal((await secondBody).equals(http.files.get('/f/4')!.body), true);
      second.close();
      const third = await KeepAliveClient.open(tunnel.port);
      assert.equal((await third.get('/f/2')).equals(http.files.get('/f/2')!.body), true);
      third.close();
      const agent = forwardAgent(tunnel)!;
      assert.equal(agent.mode, 'basic');
      assert.equal(agent.basicDials, 3);
      assert.equal(tunnel.fake.records.flags.filter((flag) => flag.name === 'DisconnectToPort').length >= 2, true);
      assert.match(tunnel.stderr(), /basic port forwarding/);
      assert.match(tunnel.stderr(), /connections are served one at a time/);
      const stopped = await tunnel.stop('SIGTERM');
      assert.equal(stopped.code, 143);
    } finally {
      await tunnel.close();
    }
  });

  it('keeps what a server-speaks-first destination sends before the first local connection, for that connection', async () => {
    const bannerSockets = new Set<import('node:net').Socket>();
    const banner = createServer((socket) => {
      bannerSockets.add(socket);
      socket.on('error', () => undefined);
      socket.write('SSH-2.0-Banner_1\r\n');
      socket.on('data', (chunk: Buffer) => socket.write(`echo:${chunk.toString()}`));
    });
    await new Promise<void>((resolve) => banner.listen(0, '127.0.0.1', resolve));
    const tunnel = await openTunnel({
      fake: { agentVersion: '2.3.1000.0', portForward: { destinations: { 'ssh.internal:22': `127.0.0.1:${(banner.address() as AddressInfo).port}` } } },
      args: [TARGET_ID, '22', '--host', 'ssh.internal'],
    });
    try {
      await waitUntil(() => tunnel.fake.records.serverToClient.streamBytes > 0, 10_000, 'the banner to reach ssm-proxy');
      const received = await new Promise<string>((resolve, reject) => {
        const socket = connect({ host: '127.0.0.1', port: tunnel.port });
        let text = '';
        socket.on('data', (chunk: Buffer) => {
          text += chunk.toString();
          if (text.includes('echo:hi')) {
            socket.destroy();
            resolve(text);
          }
        });
        socket.on('error', reject);
        socket.write('hi');
      });
      assert.equal(received, 'SSH-2.0-Banner_1\r\necho:hi');
    } finally {
      await tunnel.close();
      for (const socket of bannerSockets) socket.destroy();
      await new Promise<void>((resolve) => banner.close(() => resolve()));
    }
  });
});
