import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { systemScheduler } from '../channel/scheduler.js';
import { SIGNAL_EXIT_CODES, SsmProxyError, EXIT_CODES } from '../errors.js';
import { createLogger, type Logger } from '../log.js';
import { CLAIMED_PLUGIN_VERSION } from '../version.js';
import type { DataChannelStats } from '../channel/data-channel.js';
import type { SessionEnd } from '../session/port-session.js';
import type { ConnectArgs } from './commands/connect.js';

type Signal = keyof typeof SIGNAL_EXIT_CODES;
const SIGNALS: Signal[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * `ssm-proxy connect`: StartSession, open the data channel, run a Port session over stdio.
 * Wires the layers together and decides the exit code; stdout carries stream bytes only.
 */
export async function runConnect(args: ConnectArgs): Promise<number> {
  let log: Logger;
  try {
    log = createLogger({ verbosity: args.verbose ?? 0, ...(args['log-file'] ? { file: args['log-file'] } : {}) });
  } catch (error) {
    throw error instanceof SsmProxyError ? error : new SsmProxyError('io', `cannot open the log file: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  let code: number;
  try {
    code = await connect(args, log);
  } finally {
    log.close();
  }
  // The log could not be written (e.g. ENOSPC): say so rather than end as if all went well.
  const logFailure = log.failure();
  if (logFailure && code === 0) throw logFailure;
  return code;
}

async function connect(args: ConnectArgs, log: Logger): Promise<number> {
  const timings = new PhaseTimer();
  timings.mark('start-up');
  const [{ prepareAws }, { createCredentialProvider }, { createSsmApi }, { agentFor }, { parseStreamEndpoint }] = await Promise.all([
    import('./network-options.js'),
    import('../aws/credentials.js'),
    import('../aws/ssm-api.js'),
    import('../network/network-agents.js'),
    import('../transport/stream-url.js'),
  ]);
  // Profile, region, SSO settings, proxy, CA and timeouts: resolved once, shared by every client and the websocket.
  const { context: aws, network, client, endpoint } = await prepareAws(args);
  const { agents } = network;
  const streamEndpointText = args['ssmmessages-endpoint'] ?? process.env.AWS_ENDPOINT_URL_SSMMESSAGES;
  const streamEndpoint = streamEndpointText ? parseStreamEndpoint(streamEndpointText) : undefined;
  const credentials = await createCredentialProvider(aws, { login: args.login ?? 'auto', log, interactive: process.stderr.isTTY === true, client });
  // Resolving credentials (file reads, maybe HTTP) overlaps with loading the SSM client. Resolving
  // them here fails clearly, rather than inside StartSession.
  const [, ssm] = await Promise.all([
    credentials(),
    createSsmApi({ context: aws, credentials, endpoint, client }),
  ]);
  timings.mark('credentials and SDK');
  // The session and websocket code loads while StartSession is on the wire.
  const sessionModules = Promise.all([import('../session/port-session.js'), import('../transport/data-channel-connection.js')]);
  sessionModules.catch(() => undefined); // awaited below; a failure is reported there
  log.info(`starting a session on ${args.target} port ${args.port} (region ${aws.region}${aws.profile ? `, profile ${aws.profile}` : ''})`);
  const session = await ssm.startSession({
    target: args.target,
    documentName: args['document-name'],
    parameters: { portNumber: [String(args.port)] },
  });
  log.addSecret(session.tokenValue);
  timings.mark('StartSession');
  log.info(`session ${session.sessionId} started`);

  const [{ PortSession }, { DataChannelConnection }] = await sessionModules;
  const portSession = new PortSession({
    input: process.stdin,
    output: process.stdout,
    scheduler: systemScheduler,
    log,
    clientVersion: CLAIMED_PLUGIN_VERSION,
    target: args.target,
    handshakeTimeoutMs: args['handshake-timeout'] * 1000,
    onChannelClosed: () => void connection.close(300),
    onStreaming: () => {
      timings.mark('handshake');
      log.info(`timings: ${timings.summary()}`);
    },
  });
  const connection = new DataChannelConnection({
    endpoint: session,
    region: aws.region,
    clientId: randomUUID(),
    clientVersion: CLAIMED_PLUGIN_VERSION,
    credentials: () => credentials(),
    resume: async () => {
      const resumed = await ssm.resumeSession(session.sessionId);
      // A resume may move the session to another URL (§11.2); keep the old one otherwise.
      return resumed && { tokenValue: resumed.tokenValue, streamUrl: resumed.streamUrl || session.streamUrl };
    },
    scheduler: systemScheduler,
    log,
    timeouts: { reconnectBudgetMs: args['reconnect-timeout'] * 1000 },
    agentFor: (url) => agentFor(agents, url),
    streamEndpoint,
    events: {
      onFrame: (data) => portSession.receive(data),
      onOpen: (sink) => portSession.attach(sink),
      onDisconnect: () => portSession.detach(),
      onFailure: (error) => portSession.fail(error),
    },
  });

  let signal: Signal | undefined;
  const onSignal = (name: Signal) => {
    signal ??= name;
    log.info(`${name} received; ending the session`);
    void portSession.terminate('terminated', 500);
  };
  const handlers = SIGNALS.map((name) => [name, () => onSignal(name)] as const);
  for (const [name, handler] of handlers) process.on(name, handler);

  const terminateQuietly = async () => {
    try {
      await withTimeout(ssm.terminateSession(session.sessionId), 1000);
      log.info(`session ${session.sessionId} terminated`);
    } catch (error) {
      log.info(`could not terminate session ${session.sessionId}: ${(error as Error).message}`);
    }
  };

  try {
    const ended = portSession.run();
    try {
      await connection.connect();
      timings.mark('websocket');
    } catch (error) {
      portSession.fail(error as SsmProxyError);
    }
    const end: SessionEnd = await ended;
    if (end.reason === 'terminated' || end.reason === 'output-closed') {
      // Ended from our side: make sure the service session ends too, without lingering (§10.6).
      await Promise.all([connection.close(300), terminateQuietly()]);
    } else {
      await connection.close();
    }
    log.info(`session ${session.sessionId} ended (${end.reason}); ${describeStats(portSession.channel.stats, connection.reconnectCount)}`);
    if (signal) return SIGNAL_EXIT_CODES[signal];
    if (end.reason === 'closed-by-service' && end.output.trim()) return EXIT_CODES['session-ended'];
    return 0;
  } catch (error) {
    const sessionIsOver = error instanceof SsmProxyError && error.kind === 'session-ended';
    await Promise.all([connection.close(300), sessionIsOver ? undefined : terminateQuietly()]);
    throw error;
  } finally {
    for (const [name, handler] of handlers) process.off(name, handler);
  }
}

/** Milliseconds spent in each phase of getting connected, for -v and the benchmark. */
class PhaseTimer {
  private readonly phases: [string, number][] = [];
  private last = 0; // performance.now() counts from process start

  mark(phase: string): void {
    const now = performance.now();
    this.phases.push([phase, now - this.last]);
    this.last = now;
  }

  summary(): string {
    const parts = this.phases.map(([phase, ms]) => `${phase} ${Math.round(ms)} ms`);
    return `${parts.join(', ')} (total ${Math.round(this.last)} ms)`;
  }
}

function describeStats(stats: DataChannelStats, reconnects: number): string {
  const mib = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MiB`;
  const usage = process.resourceUsage();
  return (
    `sent ${mib(stats.payloadBytesSent)} in ${stats.messagesSent} messages, ` +
    `received ${mib(stats.payloadBytesReceived)} in ${stats.messagesReceived} messages, ` +
    `${stats.retransmissions} resent, ${stats.duplicatesReceived} duplicates, ${stats.framesDropped} bad frames, ` +
    `${reconnects} reconnects, peak RSS ${Math.round(peakRssKiB(usage.maxRSS) / 1024)} MB, ` +
    `CPU ${(usage.userCPUTime / 1e6).toFixed(2)} s user + ${(usage.systemCPUTime / 1e6).toFixed(2)} s system`
  );
}

/**
 * This process's own peak RSS. getrusage's maxRSS survives exec on Linux, so a child of a large
 * process (ssh is small, a test runner is not) reports its parent's size; VmHWM belongs to the
 * process image alone.
 */
function peakRssKiB(maxRssKiB: number): number {
  try {
    const match = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (match) return Number(match[1]);
  } catch {
    // not Linux
  }
  return maxRssKiB;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
