/**
 * Connect time for the bench: `ssm-proxy connect` from exec to the first byte of the SSH stream,
 * with its own phase timings, optionally through the latency model.
 *
 * The "corporate" rig is what a user of an SSO profile meets: every endpoint over TLS with a
 * throwaway CA (AWS_CA_BUNDLE), each behind its own latency relay:
 *
 *   ssm-proxy ─▶ relay ─▶ TLS front ─▶ fake SSO portal (GetRoleCredentials; SSO-OIDC on the same port)
 *             ─▶ relay ─▶ fake SSM API over https (StartSession)
 *             ─▶ relay ─▶ fake SSM websocket over wss (--ssmmessages-endpoint) ─▶ agent ─▶ sshd
 *
 * The SSO token in the cache is valid. The first connect makes one GetRoleCredentials call and
 * keeps the role credentials in the AWS CLI's cache (as the AWS CLI does); later connects of the
 * same rig find them there and call the SSO portal no more (0 turns on the `sso` relay).
 */
import { readFile, rm } from 'node:fs/promises';
import { connect as connectTcp, type AddressInfo } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { makeTestCerts, type TestCerts } from '../test/network/certs.js';
import { startFakeSsm, type FakeSsm } from '../test/fake-ssm/index.js';
import { startFakeSso, type FakeSso } from '../test/fake-sso/index.js';
import { makeHome, PROFILE, REGION as SSO_REGION, SESSION, START_URL, writeSeedConfig, writeToken, type Home } from '../test/sso/helpers.js';
import { startLatencyRelay, type LatencyRelay } from '../test/helpers/latency-relay.js';
import { spawnTracked, stopChild } from '../test/e2e/processes.js';
import { TARGET_ID } from '../test/e2e/harness.js';
import { parseProxyLog, type ProxyFigures } from './bench-log.js';

/** Role credentials the fake portal hands out; the fake SSM verifies signatures with them. */
const ROLE_CREDENTIALS = { accessKeyId: 'ASIAFAKESSOBENCH0001', secretAccessKey: 'fake/sso+role=secret-for-bench' };
/** What ssh writes first; sshd answers it with its KEXINIT. */
const CLIENT_BANNER = 'SSH-2.0-OpenSSH_9.2 ssm-proxy-bench\r\n';

export type RelayName = 'sso' | 'api' | 'websocket';

export interface CorporateRig {
  fake: FakeSsm;
  relays: Record<RelayName, LatencyRelay>;
  env: NodeJS.ProcessEnv;
  connectArgs: string[];
  setOneWayMs(ms: number): void;
  close(): Promise<void>;
}

export async function startCorporateRig(sshdPort: number): Promise<CorporateRig> {
  const opened: (() => Promise<unknown>)[] = [];
  try {
    const certs: TestCerts = await makeTestCerts();
    opened.push(() => certs.remove());
    const sso: FakeSso = await startFakeSso({ roleCredentials: ROLE_CREDENTIALS });
    opened.push(() => sso.close());
    const ssoTls = await startTlsFront(Number(new URL(sso.url).port), certs);
    opened.push(() => ssoTls.close());
    const fake = await startFakeSsm({ tls: { key: certs.key, cert: certs.cert }, verifySignature: ROLE_CREDENTIALS });
    opened.push(() => fake.close());
    const relays = {} as Record<RelayName, LatencyRelay>;
    for (const [name, port] of [['sso', ssoTls.port], ['api', fake.port], ['websocket', fake.port]] as const) {
      relays[name] = await startLatencyRelay({ targetPort: port, oneWayMs: 0 });
      opened.push(() => relays[name].close());
    }
    const home: Home = makeHome();
    opened.push(() => rm(home.dir, { recursive: true, force: true }));
    writeSeedConfig(home);
    const accessToken = 'bench-sso-access-token';
    sso.addAccessToken(accessToken);
    writeToken(home, SESSION, { startUrl: START_URL, region: SSO_REGION, accessToken, expiresAt: new Date(Date.now() + 4 * 3600_000).toISOString() });
    const ssoUrl = relays.sso.url('https');
    return {
      fake,
      relays,
      env: home.env({ AWS_PROFILE: PROFILE, AWS_CA_BUNDLE: certs.caPath, AWS_ENDPOINT_URL_SSO: ssoUrl, AWS_ENDPOINT_URL_SSO_OIDC: ssoUrl }),
      connectArgs: [
        'connect', TARGET_ID, String(sshdPort), '--region', 'us-east-1', '--login', 'never',
        '--endpoint-url', relays.api.url('https'), '--ssmmessages-endpoint', relays.websocket.url('https'),
      ],
      setOneWayMs: (ms) => Object.values(relays).forEach((relay) => relay.setOneWayMs(ms)),
      close: async () => {
        for (const close of opened.reverse()) await close().catch(() => undefined);
      },
    };
  } catch (error) {
    for (const close of opened.reverse()) await close().catch(() => undefined);
    throw error;
  }
}

/** TLS in front of a plain-HTTP fake (the fake SSO speaks http only). */
async function startTlsFront(targetPort: number, certs: TestCerts): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<import('node:net').Socket>();
  const server: TlsServer = createTlsServer({ key: certs.key, cert: certs.cert }, (client) => {
    const upstream = connectTcp({ port: targetPort, host: '127.0.0.1', noDelay: true });
    client.setNoDelay(true);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

export interface ColdConnect {
  /** exec → the first byte from the target on stdout (sshd's banner): streaming. */
  firstByteMs: number;
  /** exec → the target's answer to the client's first bytes (sshd's KEXINIT after our banner). */
  replyMs: number;
  proxy: ProxyFigures;
  /** Request/response turns each relay saw from exec to the first byte (TCP handshakes included). */
  roundTrips?: Record<string, number>;
  /** The agent's "not ready" answers to the first data message (the fake counts them). */
  notReady?: number;
}

/**
 * Runs `ssm-proxy connect` once against a real sshd: writes an SSH banner at once (as ssh does),
 * times the first byte back and sshd's answer to the banner, then closes stdin and waits for a
 * clean exit.
 */
export async function coldConnect(
  program: string[],
  args: string[],
  env: NodeJS.ProcessEnv,
  logFile: string,
  watch: { relays?: Partial<Record<RelayName, LatencyRelay>>; fake?: FakeSsm } = {},
): Promise<ColdConnect> {
  await rm(logFile, { force: true });
  const notReadyBefore = watch.fake?.records.clientToServer.notReady ?? 0;
  const started = performance.now();
  const child = spawnTracked(program[0]!, [...program.slice(1), ...args, '-v', '--log-file', logFile], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin!.on('error', () => undefined);
  child.stdin!.write(CLIENT_BANNER);
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  let firstByteAt = 0;
  let replyAt = 0;
  const chunks: Buffer[] = [];
  const replied = new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 30_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      const now = performance.now();
      firstByteAt ||= now;
      chunks.push(chunk);
      const seen = Buffer.concat(chunks);
      const endOfBanner = seen.indexOf('\r\n');
      if (!replyAt && endOfBanner >= 0 && seen.length > endOfBanner + 2) {
        replyAt = now;
        clearTimeout(timer);
        resolve(true);
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      resolve(false);
    });
  });
  const ok = await replied;
  child.stdin!.end();
  const code = await Promise.race([exited, new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), 15_000).unref())]);
  if (code === 'late') await stopChild(child, 'SIGKILL', 100);
  const log = await readFile(logFile, 'utf8').catch(() => '');
  if (!ok || code !== 0) {
    throw new Error(`bench: connect failed (exit ${code}, ${chunks.reduce((n, c) => n + c.length, 0)} bytes out): ${stderr.trim()} ${log.slice(-800)}`);
  }
  const result: ColdConnect = { firstByteMs: firstByteAt - started, replyMs: replyAt - started, proxy: parseProxyLog(log) };
  if (watch.relays) {
    result.roundTrips = Object.fromEntries(Object.entries(watch.relays).map(([name, relay]) => [name, relay!.roundTrips(started, firstByteAt)]));
  }
  if (watch.fake) result.notReady = watch.fake.records.clientToServer.notReady - notReadyBefore;
  return result;
}
