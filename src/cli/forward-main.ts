import { execFile } from 'node:child_process';
import { SsmProxyError } from '../errors.js';
import { createLogger, type Logger } from '../log.js';
import { printable } from '../printable.js';
import { systemScheduler } from '../scheduler.js';
import { parseProxyCommand } from '../sshconfig/proxy-command.js';
import { isValidTargetId, TARGET_ID_HINT } from '../target-id.js';
import { CLAIMED_PLUGIN_VERSION } from '../version.js';
import type { ForwardArgs } from './commands/forward.js';
import { listenForSignals, prepareSession, signalExitCode } from './session-setup.js';


export const FORWARD_DOCUMENTS = ['AWS-StartPortForwardingSession', 'AWS-StartPortForwardingSessionToRemoteHost'] as const;

/**
 * How the tunnel talks to the user. `forward` prints one line of its own on stderr; the AWS CLI
 * spelling (`start-session --document-name AWS-StartPortForwardingSession…`) prints the plugin's
 * stdout lines instead, because scripts written around `aws ssm start-session` wait for
 * "Waiting for connections..." on stdout before they start their client.
 */
export type ForwardVoice = 'forward' | 'plugin';

export interface ForwardRequest {
  target: string;
  remotePort: number;
  host?: string;
  localPort: number;
  bind: string;
  voice: ForwardVoice;
}

/** `ssm-proxy forward <target> <remote-port> [--local-port N] [--host H] [--bind ADDR]`. */
export async function runForward(args: ForwardArgs): Promise<number> {
  const remotePort = parsePortAsTyped(args['remote-port'] ?? '', 'remote port', 1);
  const localPort = args['local-port'] === undefined ? 0 : parsePortAsTyped(args['local-port'], '--local-port', 0);
  if (args.host !== undefined && !/^[A-Za-z0-9._:-]{1,253}$/.test(args.host)) {
    throw new SsmProxyError('usage', `invalid --host '${printable(args.host)}': expected a host name or IP address`);
  }
  const target = await resolveTarget(args.target ?? '');
  return runForwardSession(args, {
    target: target.target,
    remotePort,
    ...(args.host !== undefined ? { host: args.host } : {}),
    localPort,
    bind: args.bind || '127.0.0.1',
    voice: 'forward',
  }, target);
}

/**
 * Runs a forwarding session once the request is settled (shared with the `start-session`
 * spelling). `aliasSettings` are the profile and region an ssh alias's ProxyCommand named; the
 * command line wins over them.
 */
export async function runForwardSession(
  args: Omit<ForwardArgs, 'target' | 'remote-port' | 'local-port' | 'host' | 'bind'>,
  request: ForwardRequest,
  aliasSettings: { profile?: string; region?: string } = {},
): Promise<number> {
  // createLogger's own failure is already one io line naming the file.
  const log = createLogger({ verbosity: args.verbose ?? 0, ...(args['log-file'] ? { file: args['log-file'] } : {}) });
  // The listener first: a busy port fails before any AWS call, and the port is known for the line.
  const { LocalListener } = await import('../session/forward/local-listener.js');
  const listener = await LocalListener.open(request.bind, request.localPort);
  const signals = listenForSignals(log);
  try {
    return await forward(args, request, aliasSettings, listener, log, signals.signal);
  } catch (error) {
    if (signals.signal.aborted) return signalExitCode(signals.signal);
    throw error;
  } finally {
    listener.close();
    signals.stop();
    log.close();
  }
}

async function forward(
  args: Omit<ForwardArgs, 'target' | 'remote-port' | 'local-port' | 'host' | 'bind'>,
  request: ForwardRequest,
  aliasSettings: { profile?: string; region?: string },
  listener: import('../session/forward/local-listener.js').LocalListener,
  log: Logger,
  signal: AbortSignal,
): Promise<number> {
  // An alias's ProxyCommand names the profile and region that host needs, as ssh would pass them.
  const profile = args.profile ?? aliasSettings.profile;
  const region = args.region ?? aliasSettings.region;
  const { aws, ssm, connection } = await prepareSession(
    { ...args, ...(profile !== undefined ? { profile } : {}), ...(region !== undefined ? { region } : {}) },
    log,
    signal,
  );
  const [{ runSession }, { createPortForwardKind }] = await Promise.all([import('../session/run-session.js'), import('../session/forward/forward-kind.js')]);

  const destination = request.host !== undefined ? `${hostPort(request.host, request.remotePort)}` : `localhost:${request.remotePort}`;
  const shownDestination = request.host !== undefined ? destination : `${request.target}:${request.remotePort}`;
  const plugin = request.voice === 'plugin';
  let sessionId = '';
  const parameters: Record<string, string[]> = {
    portNumber: [String(request.remotePort)],
    localPortNumber: [String(listener.port)],
    ...(request.host !== undefined ? { host: [request.host] } : {}),
  };
  log.info(`forwarding ${listener.endpoint} to ${destination} via ${request.target} (region ${aws.region}${aws.profile ? `, profile ${aws.profile}` : ''})`);
  const kind = createPortForwardKind({
    listener,
    destination,
    onReady: (ready) => {
      sessionId = ready.sessionId;
      if (plugin) {
        // The plugin's own words and layout (muxportforwarding.go / basicportforwarding.go).
        process.stdout.write(
          ready.mode === 'multiplexed'
            ? `Port ${listener.port} opened for sessionId ${ready.sessionId}.\nWaiting for connections...\n`
            : `Port ${listener.port} opened for sessionId ${ready.sessionId}.\n`,
        );
      } else {
        process.stderr.write(`forwarding ${listener.endpoint} → ${request.target} → ${shownDestination}\n`);
      }
    },
    onFirstConnection: () => {
      if (plugin) process.stdout.write(`\nConnection accepted for session [${sessionId}]\n`);
    },
  });
  const outcome = await runSession({
    api: ssm,
    request: {
      target: request.target,
      documentName: request.host !== undefined ? FORWARD_DOCUMENTS[1] : FORWARD_DOCUMENTS[0],
      parameters,
    },
    kind: (session) => {
      if (plugin) process.stdout.write(`\nStarting session with SessionId: ${session.sessionId}\n`);
      return kind(session);
    },
    connection,
    clientVersion: CLAIMED_PLUGIN_VERSION,
    log,
    scheduler: systemScheduler,
    signal,
    timeouts: { handshakeMs: args['handshake-timeout'] * 1000, reconnectBudgetMs: args['reconnect-timeout'] * 1000 },
  });
  const { end } = outcome;
  log.info(`session ${outcome.sessionId ?? '(none)'} ended (${end.reason}); ${outcome.reconnects} reconnects`);
  if (plugin && outcome.sessionId) process.stdout.write(`\n\nExiting session with sessionId: ${outcome.sessionId}.\n\n`);
  if (end.reason === 'failed') throw end.error;
  return outcome.exitCode;
}

/**
 * The AWS CLI spelling: `start-session --target T --document-name AWS-StartPortForwardingSession…
 * --parameters …` (start-session's dispatch table calls this for the two documents). Parameters
 * as the AWS CLI passes them: portNumber (required), localPortNumber (default 0), host (required
 * for …ToRemoteHost, refused otherwise). Speaks with the plugin's stdout lines.
 */
export async function runStartSessionForward(
  args: Omit<ForwardArgs, 'target' | 'remote-port' | 'local-port' | 'host' | 'bind'> & { bind?: string },
  target: string,
  documentName: (typeof FORWARD_DOCUMENTS)[number],
  parameters: Record<string, string[]>,
): Promise<number> {
  const single = (name: string): string | undefined => {
    const values = parameters[name];
    if (values && values.length !== 1) throw new SsmProxyError('usage', `parameter ${name} takes one value, got ${values.length}`);
    return values?.[0];
  };
  const known = new Set(['portNumber', 'localPortNumber', ...(documentName === FORWARD_DOCUMENTS[1] ? ['host'] : [])]);
  const unknown = Object.keys(parameters).find((name) => !known.has(name));
  if (unknown) throw new SsmProxyError('usage', `document ${documentName} has no parameter ${printable(unknown)}`);
  const asPort = (name: string, text: string | undefined, fallback: number | undefined, zeroAllowed: boolean): number => {
    if (text === undefined && fallback !== undefined) return fallback;
    if (text === undefined) throw new SsmProxyError('usage', `document ${documentName} needs the parameter ${name}`);
    return parsePortAsTyped(text, name, zeroAllowed ? 0 : 1);
  };
  const host = single('host');
  if (documentName === FORWARD_DOCUMENTS[1] && !host) throw new SsmProxyError('usage', `document ${documentName} needs the parameter host`);
  if (host !== undefined && !/^[A-Za-z0-9._:-]{1,253}$/.test(host)) {
    throw new SsmProxyError('usage', `invalid host '${printable(host)}': expected a host name or IP address`);
  }
  if (!isValidTargetId(target)) {
    throw new SsmProxyError('usage', target ? `invalid target '${printable(target)}': ${TARGET_ID_HINT}` : `missing target: ${TARGET_ID_HINT}`);
  }
  return runForwardSession(args, {
    target,
    remotePort: asPort('portNumber', single('portNumber'), undefined, false),
    ...(host !== undefined ? { host } : {}),
    localPort: asPort('localPortNumber', single('localPortNumber'), 0, true),
    bind: args.bind || '127.0.0.1',
    voice: 'plugin',
  });
}

/** A port as typed: decimal digits only (not `0x16`, `1e3`, `22abc` or empty), from `low` (0: any free port) to 65535. */
function parsePortAsTyped(text: string, what: string, low: 0 | 1): number {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : Number.NaN;
  if (!(port >= low && port <= 65535)) {
    throw new SsmProxyError('usage', `invalid ${what} '${printable(text)}': expected a whole number from ${low} to 65535`);
  }
  return port;
}

function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * An instance id as it is, or a Host alias from ~/.ssh/config: `ssh -G` says what ssh would use
 * (HostName, ProxyCommand after Include and Match), and the ProxyCommand's target, profile and
 * region are read the way install-host reads them.
 */
export async function resolveTarget(
  text: string,
  options: { ssh?: string; timeoutMs?: number } = {},
): Promise<{ target: string; profile?: string; region?: string }> {
  if (isValidTargetId(text)) return { target: text };
  if (!text || text.startsWith('-') || /[\s%'"\\]/.test(text)) {
    throw new SsmProxyError('usage', text ? `invalid target '${printable(text)}': ${TARGET_ID_HINT}` : `missing target: ${TARGET_ID_HINT}`);
  }
  const settings = await sshSettings(options.ssh ?? 'ssh', text, options.timeoutMs ?? 10_000);
  const hostname = settings.get('hostname') ?? '';
  const proxy = parseProxyCommand(settings.get('proxycommand') ?? '');
  const named = proxy.kind !== 'other' && proxy.target && !proxy.target.includes('%') ? proxy.target : hostname;
  if (!isValidTargetId(named)) {
    throw new SsmProxyError(
      'usage',
      `invalid target '${printable(text)}': not an instance id, and ~/.ssh/config has no Host ${printable(text)} whose HostName or ProxyCommand names one (${TARGET_ID_HINT})`,
    );
  }
  return {
    target: named,
    ...(proxy.kind !== 'other' && proxy.profile ? { profile: proxy.profile } : {}),
    ...(proxy.kind !== 'other' && proxy.region ? { region: proxy.region } : {}),
  };
}

/** `ssh -G -- alias`, bounded; keyword → first value. */
function sshSettings(ssh: string, alias: string, timeoutMs: number): Promise<Map<string, string>> {
  return new Promise((resolve, reject) => {
    execFile(ssh, ['-G', '--', alias], { timeout: timeoutMs, maxBuffer: 4 << 20 }, (error, stdout, stderr) => {
      if (error) {
        const code = (error as NodeJS.ErrnoException).code;
        const why =
          code === 'ENOENT'
            ? 'ssh is not installed'
            : error.killed
              ? `ssh -G did not answer within ${timeoutMs / 1000} s`
              : (String(stderr).trim().split('\n')[0] ?? error.message);
        reject(new SsmProxyError('config', `cannot read the ssh configuration for '${printable(alias)}': ${printable(why)}`));
        return;
      }
      const settings = new Map<string, string>();
      for (const line of String(stdout).split('\n')) {
        const space = line.indexOf(' ');
        if (space > 0 && !settings.has(line.slice(0, space))) settings.set(line.slice(0, space), line.slice(space + 1));
      }
      resolve(settings);
    });
  });
}

