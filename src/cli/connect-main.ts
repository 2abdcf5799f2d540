import { readFileSync } from 'node:fs';
import type { ReliableStreamStats } from '../channel/reliable-stream.js';
import { createLogger, type Logger } from '../log.js';
import { systemScheduler } from '../scheduler.js';
import { CLAIMED_PLUGIN_VERSION } from '../version.js';
import type { ConnectArgs } from './commands/connect.js';
import { loadConnectModules } from './connect-modules.js';
import { listenForSignals, prepareSession, signalExitCode } from './session-setup.js';

/**
 * `ssm-proxy connect`: validate, resolve the AWS context, run a Port-over-stdio session on the
 * session engine (session/run-session.ts), exit with its code. stdout carries stream bytes only.
 */
export async function runConnect(args: ConnectArgs): Promise<number> {
  // createLogger's own failure is already one io line naming the file.
  const log = createLogger({ verbosity: args.verbose ?? 0, ...(args['log-file'] ? { file: args['log-file'] } : {}) });
  // From here on a signal cuts every phase short (credentials, StartSession, upgrade, handshake, resume).
  const signals = listenForSignals(log);
  let code: number;
  try {
    code = await connect(args, log, signals.signal);
  } catch (error) {
    if (!signals.signal.aborted) throw error;
    code = signalExitCode(signals.signal);
  } finally {
    signals.stop();
    log.close();
  }
  // The log could not be written (e.g. ENOSPC): say so rather than end as if all went well.
  const logFailure = log.failure();
  if (logFailure && code === 0) throw logFailure;
  return code;
}

async function connect(args: ConnectArgs, log: Logger, signal: AbortSignal): Promise<number> {
  const timings = new PhaseTimer();
  timings.mark('start-up');
  const { aws, ssm, connection } = await prepareSession(args, log, signal, {
    loadModules: async () => {
      timings.mark('config');
      await loadConnectModules();
      timings.mark('modules');
    },
  });
  timings.mark('credentials and SDK');
  const [{ runSession }, { portOverStdio }] = await Promise.all([import('../session/run-session.js'), import('../session/port-over-stdio.js')]);
  log.info(`port ${args.port}, region ${aws.region}${aws.profile ? `, profile ${aws.profile}` : ''}`);
  const outcome = await runSession({
    api: ssm,
    request: { target: args.target, documentName: args['document-name'], parameters: { portNumber: [String(args.port)] } },
    kind: portOverStdio({ input: process.stdin, output: process.stdout }),
    connection,
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
