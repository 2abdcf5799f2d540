import { SsmProxyError } from '../errors.js';
import { createLogger, type Logger } from '../log.js';
import { printable } from '../printable.js';
import { systemScheduler } from '../scheduler.js';
import { CLAIMED_PLUGIN_VERSION } from '../version.js';
import type { ConnectArgs } from './commands/connect.js';
import type { LocalTerminal } from '../session/shell/local-terminal.js';
import type { ShellArgs } from './commands/shell.js';
import { parseSessionParameters } from './session-parameters.js';
import { listenForSignals, prepareSession, signalExitCode } from './session-setup.js';

/** What StartSession runs when no document is named (docs/protocol.md §14.1). */
const DEFAULT_SHELL_DOCUMENT = 'SSM-SessionManagerRunShell';

interface SessionRequest {
  target: string;
  /** undefined: the account's default shell document. */
  documentName: string | undefined;
  parameters: Record<string, string[]> | undefined;
}

type StartSessionRunner = (args: ShellArgs, request: SessionRequest) => Promise<number>;

/**
 * `start-session`'s dispatch: which session kind a document runs. Documents not listed are
 * shells (Standard_Stream, InteractiveCommands); the agent's handshake says so if not.
 */
const START_SESSION_DOCUMENTS: Readonly<Record<string, StartSessionRunner>> = {
  'AWS-StartSSHSession': runPortOverStdio,
  'AWS-StartPortForwardingSession': runPortForwarding,
  'AWS-StartPortForwardingSessionToRemoteHost': runPortForwarding,
};

/** The port forwarding documents: a local listener, as `ssm-proxy forward` (cli/forward-main.ts). */
async function runPortForwarding(args: ShellArgs, request: SessionRequest): Promise<number> {
  const { runStartSessionForward } = await import('./forward-main.js');
  return runStartSessionForward(args, request.target, request.documentName as 'AWS-StartPortForwardingSession', request.parameters ?? {});
}

/** `ssm-proxy shell <target>`. */
export async function runShell(args: ShellArgs): Promise<number> {
  return runShellSession(args, readRequest(args));
}

/** `ssm-proxy start-session --target …`: the AWS CLI's spelling, dispatched by document. */
export async function runStartSession(args: ShellArgs): Promise<number> {
  const request = readRequest(args);
  const runner = (request.documentName && START_SESSION_DOCUMENTS[request.documentName]) || runShellSession;
  return runner(args, request);
}

/** The target and timeouts were checked as typed (commands/shell.ts); the parameters are read here. */
function readRequest(args: ShellArgs): SessionRequest {
  const target = args.target;
  // Given twice, the last one counts, as with the AWS CLI.
  const text = Array.isArray(args.parameters) ? args.parameters.at(-1) : args.parameters;
  return {
    target,
    documentName: args['document-name'] || undefined,
    parameters: text === undefined ? undefined : parseSessionParameters(text),
  };
}

/** AWS-StartSSHSession through start-session: the same Port-over-stdio session as `connect`. */
async function runPortOverStdio(args: ShellArgs, request: SessionRequest): Promise<number> {
  const portText = request.parameters?.portNumber?.[0] ?? '22';
  const port = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
  if (!(port >= 1 && port <= 65535)) {
    throw new SsmProxyError('usage', `invalid portNumber '${printable(portText)}' in --parameters: expected a whole number from 1 to 65535`);
  }
  const { runConnect } = await import('./connect-main.js');
  const documentName = request.documentName ?? 'AWS-StartSSHSession';
  const connectArgs: ConnectArgs = { ...args, target: request.target, port, 'document-name': documentName };
  try {
    return await runConnect(connectArgs);
  } catch (error) {
    if (!(error instanceof SsmProxyError)) throw error;
    // The region connect resolved shows in AWS's ARNs; else the flag or the environment.
    const region = /arn:aws[\w-]*:(?:ec2|ssm):([a-z0-9-]+):/.exec(error.message)?.[1] ?? args.region ?? process.env.AWS_REGION ?? '<region>';
    throw explainStartSessionDenial(error, { ...request, documentName }, { region });
  }
}

async function runShellSession(args: ShellArgs, request: SessionRequest): Promise<number> {
  const { LocalTerminal: Terminal } = await import('../session/shell/local-terminal.js');
  const terminal = new Terminal({ input: process.stdin, sizeSources: [process.stdout, process.stderr], exitHooks: process });
  // createLogger's own failure is already one io line naming the file.
  const log = createLogger({
    verbosity: args.verbose ?? 0,
    ...(args['log-file']
      ? { file: args['log-file'] }
      : // In raw mode the terminal no longer turns LF into CR LF: log lines must do it themselves.
        { write: (line: string) => void process.stderr.write(terminal.isRaw ? line.replace(/\r?\n/g, '\r\n') : line) }),
  });
  const signals = listenForSignals(log);
  try {
    return await shell(args, request, log, signals.signal, terminal);
  } catch (error) {
    if (signals.signal.aborted) return signalExitCode(signals.signal);
    throw error;
  } finally {
    signals.stop();
    log.close();
  }
}

async function shell(
  args: ShellArgs,
  request: SessionRequest,
  log: Logger,
  signal: AbortSignal,
  terminal: LocalTerminal,
): Promise<number> {
  const { aws, client, credentials, ssm, connection } = await prepareSession(args, log, signal);
  const [{ runSession }, { createShellKind }] = await Promise.all([import('../session/run-session.js'), import('../session/shell/shell-kind.js')]);
  const shellKind = createShellKind({
    input: process.stdin,
    output: process.stdout,
    errorOutput: process.stderr,
    terminal,
    // KMS loads only when the agent asks for encryption (docs/protocol.md §15.1).
    kms: async () => {
      const { createKmsApi } = await import('../aws/kms-api.js');
      return createKmsApi({ context: aws, credentials, client });
    },
  });
  const documentName = request.documentName ?? DEFAULT_SHELL_DOCUMENT;
  log.info(`shell on ${request.target} with ${documentName}, region ${aws.region}${aws.profile ? `, profile ${aws.profile}` : ''}`);
  // The agent's own KMS refusal arrives as channel_closed text; turn it into the access-denied line.
  let agentKmsDenial: string | undefined;
  const sessionLog: Logger = {
    get verbosity() {
      return log.verbosity;
    },
    error: (message) => {
      agentKmsDenial ??= describeAgentKmsDenial(message, request.target);
      if (!agentKmsDenial) log.error(message);
    },
    warn: (message) => log.warn(message),
    info: (message) => log.info(message),
    debug: (message) => log.debug(message),
    addSecret: (secret) => log.addSecret(secret),
    close: () => {},
    failure: () => log.failure(),
  };
  const outcome = await runSession({
    api: ssm,
    request: { target: request.target, ...(request.documentName ? { documentName: request.documentName } : {}), ...(request.parameters ? { parameters: request.parameters } : {}) },
    kind: (session) => {
      // What the AWS CLI says first, on stderr: stdout is the shell's.
      process.stderr.write(`\nStarting session with SessionId: ${printable(session.sessionId)}\n`);
      return shellKind(session);
    },
    connection,
    clientVersion: CLAIMED_PLUGIN_VERSION,
    log: sessionLog,
    scheduler: systemScheduler,
    signal,
    timeouts: { handshakeMs: args['handshake-timeout'] * 1000, reconnectBudgetMs: args['reconnect-timeout'] * 1000 },
  });
  terminal.restore();
  const { end } = outcome;
  log.info(`session ${outcome.sessionId ?? '(none)'} ended (${end.reason}) after ${outcome.reconnects} reconnects`);
  if (agentKmsDenial) throw new SsmProxyError('access-denied', agentKmsDenial);
  // The closing text, when the service sent one (idle timeout), was logged by the engine already.
  if (end.reason === 'closed-by-service' && !end.output.trim() && outcome.sessionId) {
    process.stderr.write(`\n\nExiting session with sessionId: ${printable(outcome.sessionId)}.\n\n`);
  }
  if (end.reason === 'failed') throw explainStartSessionDenial(end.error, { ...request, documentName }, aws);
  return outcome.exitCode;
}

/**
 * StartSession needs the permission on two resources: the instance and the document. AWS's
 * message names the one it checked; say both, and who signed (describeAwsError did that part).
 */
function explainStartSessionDenial(error: SsmProxyError, request: SessionRequest & { documentName: string }, aws: { region: string }): SsmProxyError {
  if (error.kind !== 'access-denied' || !/ssm:StartSession/.test(error.message)) return error;
  const account = /arn:aws[\w-]*:(?:sts|iam)::(\d{12}):/.exec(error.message)?.[1] ?? '<account>';
  const documentOwner = request.documentName.startsWith('AWS-') ? '' : account;
  const instance = `arn:aws:ec2:${aws.region}:${account}:instance/${request.target}`;
  const document = `arn:aws:ssm:${aws.region}:${documentOwner}:document/${request.documentName}`;
  return new SsmProxyError('access-denied', `${error.message}; the policy must allow ssm:StartSession on both ${instance} and ${document}`);
}

/**
 * The agent decrypts the data key with its instance role (docs/protocol.md §15.2); when KMS
 * refuses, its handshake error comes back as the channel's closing text. One line naming the key,
 * the permission and whose it must be; undefined for any other text.
 */
export function describeAgentKmsDenial(message: string, target: string): string | undefined {
  if (!/kms:Decrypt/.test(message) || !/(AccessDenied|not authorized)/.test(message)) return undefined;
  const key = /on resource: (arn:[^\s]+:kms:[^\s]+)/.exec(message)?.[1] ?? 'the session\'s KMS key';
  const aws = /User: .*$/.exec(message)?.[0] ?? message.trim();
  return `the SSM agent on ${target} was denied kms:Decrypt on key ${key}, so the session cannot be encrypted: ${printable(aws)}; allow kms:Decrypt on that key for the instance's role (instance profile)`;
}

