import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { abortable } from '../abortable.js';
import type { ReliableStreamStats } from '../channel/reliable-stream.js';
import { SIGNAL_EXIT_CODES, SsmProxyError } from '../errors.js';
import { createLogger, type Logger } from '../log.js';
import { systemScheduler } from '../scheduler.js';
import { isValidTargetId, TARGET_ID_HINT } from '../target-id.js';
import { CLAIMED_PLUGIN_VERSION } from '../version.js';
import type { ConnectArgs } from './commands/connect.js';
import { parseStreamEndpoint } from './ssmmessages-endpoint.js';

type Signal = keyof typeof SIGNAL_EXIT_CODES;
const SIGNALS: Signal[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * `ssm-proxy connect`: validate, resolve the AWS context, run a Port-over-stdio session on the
 * session engine (session/run-session.ts), exit with its code. stdout carries stream bytes only.
 */
export async function runConnect(args: ConnectArgs): Promise<number> {
  const target = args.target ?? '';
  if (!isValidTargetId(target)) {
    throw new SsmProxyError('usage', target ? `invalid target '${target}': ${TARGET_ID_HINT}` : `missing target: ${TARGET_ID_HINT}`);
  }
  const port = args.port ?? 22;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new SsmProxyError('usage', `invalid port '${args.port}': expected a whole number from 1 to 65535`);
  }
  let log: Logger;
  try {
    log = createLogger({ verbosity: args.verbose ?? 0, ...(args['log-file'] ? { file: args['log-file'] } : {}) });
  } catch (error) {
    throw new SsmProxyError('io', `cannot open the log file: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  for (const name of ['handshake-timeout', 'reconnect-timeout'] as const) {
    const seconds = args[name];
    if (!(Number.isFinite(seconds) && seconds > 0)) {
      throw new SsmProxyError('usage', `invalid --${name} '${seconds}': expected a number of seconds above 0`);
    }
  }
  // From here on a signal cuts every phase short (credentials, StartSession, upgrade, handshake, resume).
  const signals = listenForSignals(log);
  try {
    return await connect({ ...args, target, port }, log, signals.signal);
  } catch (error) {
    if (signals.signal.aborted) return SIGNAL_EXIT_CODES[signals.signal.reason as Signal];
    throw error;
  } finally {
    signals.stop();
    log.close();
  }
}

/** SIGINT, SIGTERM and SIGHUP abort the returned signal, with the signal's name as the reason. */
function listenForSignals(log: Logger): { signal: AbortSignal; stop(): void } {
  const controller = new AbortController();
  const handlers = SIGNALS.map((name) => {
    const handler = () => {
      if (controller.signal.aborted) return;
      log.info(`${name} received; ending the session`);
      controller.abort(name);
    };
    process.on(name, handler);
    return [name, handler] as const;
  });
  return {
    signal: controller.signal,
    stop: () => {
      for (const [name, handler] of handlers) process.off(name, handler);
    },
  };
}

async function connect(args: ConnectArgs & { target: string; port: number }, log: Logger, signal: AbortSignal): Promise<number> {
  const timings = new PhaseTimer();
  timings.mark('start-up');
  const [{ resolveAwsTarget }, { createCredentialProvider }, { createSsmApi }, { buildNetwork }, { agentFor }] = await Promise.all([
    import('../aws/profile.js'),
    import('../aws/credentials.js'),
    import('../aws/ssm-api.js'),
    import('./network-options.js'),
    import('../network/network-agents.js'),
  ]);
  const aws = await abortable(
    resolveAwsTarget({
      ...(args.profile ? { profile: args.profile } : {}),
      ...(args.region ? { region: args.region } : {}),
      ...(args['ca-bundle'] ? { caBundle: args['ca-bundle'] } : {}),
    }),
    signal,
  );
  // Proxy and CA bundle, shared by every AWS client and the websocket (corporate networks).
  const { agents } = await abortable(buildNetwork(args, aws.caBundle ? { path: aws.caBundle, profile: aws.profile ?? 'default' } : undefined), signal);
  const endpointText = args['ssmmessages-endpoint'] ?? process.env.AWS_ENDPOINT_URL_SSMMESSAGES;
  const ssmmessagesEndpoint = endpointText ? parseStreamEndpoint(endpointText) : undefined;
  const credentials = await abortable(
    createCredentialProvider(aws.profile, { login: args.login ?? 'auto', log, interactive: process.stderr.isTTY === true, agents }),
    signal,
  );
  // Resolving credentials (file reads, maybe HTTP) overlaps with loading the SSM client. Resolving
  // them here fails clearly, rather than inside StartSession.
  const [, ssm] = await abortable(
    Promise.all([
      credentials(),
      createSsmApi({ ...aws, credentials, ...(args['endpoint-url'] ? { endpoint: args['endpoint-url'] } : {}), agents }),
    ]),
    signal,
  );
  timings.mark('credentials and SDK');
  // The session code loads while nothing else is waiting; it is small.
  const [{ runSession }, { portOverStdio }, { websocketConnection }] = await Promise.all([
    import('../session/run-session.js'),
    import('../session/port-over-stdio.js'),
    import('../session/websocket-connection.js'),
  ]);
  log.info(`port ${args.port}, region ${aws.region}${aws.profile ? `, profile ${aws.profile}` : ''}`);
  const outcome = await runSession({
    api: ssm,
    request: { target: args.target, documentName: args['document-name'], parameters: { portNumber: [String(args.port)] } },
    kind: portOverStdio({ input: process.stdin, output: process.stdout }),
    connection: websocketConnection({
      region: aws.region,
      credentials: () => credentials(),
      clientId: randomUUID(),
      agentFor: (url) => agentFor(agents, url),
      ssmmessagesEndpoint,
      // Where the StreamUrl will point is only predictable for AWS's own endpoints or the override.
      warmUp: ssmmessagesEndpoint !== undefined || !(args['endpoint-url'] || process.env.AWS_ENDPOINT_URL_SSM || process.env.AWS_ENDPOINT_URL),
    }),
    clientVersion: CLAIMED_PLUGIN_VERSION,
    log,
    scheduler: systemScheduler,
    signal,
    timeouts: { handshakeMs: args['handshake-timeout'] * 1000, reconnectBudgetMs: args['reconnect-timeout'] * 1000 },
    onPhase: (phase) => {
      timings.mark(phase);
      if (phase === 'handshake') log.info(`timings: ${timings.summary()}`);
    },
  });
  const { end } = outcome;
  log.info(`session ${outcome.sessionId ?? '(none)'} ended (${end.reason}); ${describeStats(outcome.stats, outcome.reconnects)}`);
  if (end.reason === 'failed') throw end.error;
  return outcome.exitCode;
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

function describeStats(stats: ReliableStreamStats | undefined, reconnects: number): string {
  const mib = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MiB`;
  const usage = process.resourceUsage();
  if (!stats) return `peak RSS ${Math.round(peakRssKiB(usage.maxRSS) / 1024)} MB`;
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
