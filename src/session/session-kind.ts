/**
 * The contract between the session engine (`runSession`, session/run-session.ts) and a session
 * *kind*: the small module that knows what one sort of session does with its bytes (Port over
 * stdio, an interactive shell, port forwarding over smux).
 *
 * The engine owns everything a kind does not: StartSession, the websocket, the reliable stream
 * (sequence numbers, acks, resends), resume after a drop, the HandshakeRequest/HandshakeComplete
 * messages, channel_closed, signals, every timeout, the way a session ends, and the exit code.
 * A kind owns the local side (stdin/stdout, a terminal, listening sockets), its answers to the
 * agent's requested client actions, and what each payload type means to it.
 *
 * Usage:
 *
 *   export function createThingKind(options: ThingOptions): SessionKindFactory {
 *     return (session) => new ThingKind(session, options);
 *   }
 *   // cli: const outcome = await runSession({ ..., kind: createThingKind({ ... }) });
 *
 * A command (cli/<thing>-main.ts) stays thin: validate flags, resolve the AWS context, build the
 * kind factory, then `runSession({ api, request: { target, documentName, parameters }, kind,
 * connection: websocketConnection({ region, credentials, clientId, agentFor, ssmmessagesEndpoint }),
 * clientVersion, log, scheduler, signal, timeouts })` (session/run-session.ts; cli/connect-main.ts
 * is the model), which resolves to `{ end, exitCode, ... }`. It does not throw for a failed
 * session: `end.reason === 'failed'` carries the SsmProxyError to report (throw it). The
 * StartSession document and parameters are the command's choice, not the kind's. Tests drive a
 * kind in memory with test/session/engine-harness.ts (`engineWorld({ kind })`).
 *
 * Lifecycle, in the order the engine calls it (each at most once unless said otherwise):
 *   1. factory(session)        after StartSession answered: `session.sessionId` is known.
 *   2. answerAction(...)       once per requested client action of a HandshakeRequest, in order
 *                              (docs/protocol.md §8.3). Not called when the agent does not handshake.
 *   3. start(...)              the stream is open: HandshakeComplete arrived, or (handshake
 *                              'optional') the first Output message came without any handshake
 *                              (docs/protocol.md §8.4) — that message is then delivered by `receive` right after.
 *   4. receive(...)            every in-order stream message from the agent except HandshakeRequest
 *                              and HandshakeComplete, from step 2 on (so a KMS shell sees its
 *                              EncChallengeRequest before `start`). Many times.
 *   5. onWritable(), onConnection(...): whenever they happen, between 1 and 6.
 *   6. stopInput(), then flushOutput(): the session is ending, whatever the reason.
 *   7. dispose()               last; also after a failure in any step.
 *
 * Everything runs on the event loop's thread: no method is called while another one runs, except
 * that a kind's own call to `session.end()` or `session.send()` may lead the engine to call
 * `stopInput()` before that call returns.
 */
import type { SsmProxyError } from '../errors.js';
import type { Logger } from '../log.js';
import type { HandshakeRequest, RequestedClientAction } from '../protocol/index.js';
import type { Scheduler } from '../scheduler.js';

/** Builds the kind once the session exists. */
export type SessionKindFactory = (session: SessionControl) => SessionKind;

/** What the engine gives a kind: facts about the session and the ways to act on it. */
export interface SessionControl {
  readonly sessionId: string;
  /** The StartSession target (instance or managed-node id), for messages and the KMS context (docs/protocol.md §9). */
  readonly target: string;
  /** The ClientVersion the engine claims (docs/protocol.md §8.5). */
  readonly clientVersion: string;
  readonly log: Logger;
  readonly scheduler: Scheduler;
  /** Aborted when the session starts to end (any reason): cancel the kind's own async work (a KMS call). */
  readonly signal: AbortSignal;

  /**
   * Queues one client→agent stream message (`input_stream_data`) with this payload type. The
   * payload is encoded into the message before `send` returns: the caller may reuse its buffer.
   * Nothing is lost while the websocket is down; it is sent once a socket is up again.
   * Keep payloads ≤ STREAM_CHUNK_SIZE for stream data (docs/protocol.md §10.2). Encrypting them (KMS) is the kind's job.
   * Returns false when the in-flight window is full: stop producing until `onWritable()`.
   * Ignored (returns false) once the session is ending.
   */
  send(payloadType: number, payload: Buffer): boolean;
  /** True while `send` would report room. */
  readonly hasRoom: boolean;

  /**
   * Incoming back-pressure, the one way: the local side is full (stdout, a terminal, a TCP
   * socket), so stop reading from the websocket until `resumeIncoming()`. Messages already on
   * their way are still delivered by `receive`: a kind always takes what it is given. Calls nest
   * by kind, not by count: one resume undoes any number of pauses.
   */
  pauseIncoming(): void;
  resumeIncoming(): void;

  /** The kind is done; the engine ends the session accordingly (idempotent: the first reason wins). */
  end(reason: KindEnd): void;
}

/** Why a kind ends its session. */
export type KindEnd =
  /**
   * The local input is over (stdin EOF; the user left the shell; the last forwarded connection
   * closed): deliver everything sent so far, send the TerminateSession flag, flush output, exit 0.
   */
  | { reason: 'input-ended' }
  /** The local reader is gone (EPIPE on stdout): stop now, flag + TerminateSession API, exit 0. */
  | { reason: 'output-closed' }
  /** Something the kind cannot go on with: exit with the error's code, its message on stderr. */
  | { reason: 'failed'; error: SsmProxyError };

/** The kind's answer to one requested client action (docs/protocol.md §8.3). */
export type ActionAnswer =
  /** ActionStatus 1; `result` is the ActionResult (null when absent, as for SessionType). */
  | { status: 'success'; result?: unknown }
  /**
   * ActionStatus 2 (failed) or 3 (unsupported): the agent cancels the session. `error` goes to
   * the agent in the response; `refusal` is the one line the user sees (exit 6, protocol).
   */
  | { status: 'failed' | 'unsupported'; error: string; refusal: string };

export interface HandshakeContext {
  /** The whole request, e.g. AgentVersion for version gates (docs/protocol.md §8.5). */
  readonly request: HandshakeRequest;
  /** Aborted when the session ends meanwhile. */
  readonly signal: AbortSignal;
}

/** What the engine passes when the stream opens. */
export interface StreamStart {
  /** False when the agent skipped the handshake (shell without KMS, §8.1, §8.4). */
  readonly handshakeCompleted: boolean;
  /** HandshakeComplete's CustomerMessage (e.g. "This session is encrypted using AWS KMS."); '' when none. */
  readonly customerMessage: string;
  /** The agent's version from the HandshakeRequest; '' when there was none. */
  readonly agentVersion: string;
}

export interface SessionKind {
  /** For messages: 'port', 'shell', 'port forwarding'. */
  readonly name: string;

  /**
   * 'required': the agent always handshakes (Port sessions, §8.1). Stream data before
   *   HandshakeComplete is ignored, and no handshake within the handshake timeout ends the session.
   * 'optional': the agent handshakes only when it needs something (a Standard_Stream shell does only
   *   for KMS encryption). Without a HandshakeRequest, the first Output message starts the stream.
   */
  readonly handshake: 'required' | 'optional';

  /**
   * Answers one requested client action, in the order requested. The engine builds the
   * HandshakeResponse (ClientVersion, one ProcessedClientAction per action, Errors) and sends it
   * once every answer is in. May be async: the shell's KMSEncryption calls KMS GenerateDataKey
   * and may turn encryption on here, before the EncChallengeRequest arrives (docs/protocol.md §9). A thrown error
   * or rejection ends the session as failed (throw an SsmProxyError with the right kind).
   * `answerSessionType` and `refuseAction` (session/handshake.ts) cover the common cases.
   */
  answerAction(action: RequestedClientAction, context: HandshakeContext): ActionAnswer | Promise<ActionAnswer>;

  /** The stream is open: start reading local input and `send` it. */
  start(stream: StreamStart): void;

  /**
   * One in-order stream message from the agent: Output (1), StdErr (11), ExitCode (12), Flag (10),
   * EncChallengeRequest (8), or anything else the agent sends — the kind decides, and logs and
   * ignores what it does not know. `payload` is a view into the websocket's read buffer, valid only
   * during the call: copy what you keep. Always consumed; for back-pressure see
   * `session.pauseIncoming()`. The engine acknowledges the message after this returns (docs/protocol.md §5).
   */
  receive(payloadType: number, payload: Buffer): void;

  /** `send` had reported the window full and there is room again. */
  onWritable(): void;

  /**
   * Optional news about the stream underneath. 'reconnecting': the websocket dropped and the
   * engine is resuming the session (what is sent meanwhile is kept and resent); 'connected': a
   * socket is up again (also after the first connect); 'paused' / 'resumed': the service asked
   * the client to pause / start publication (docs/protocol.md §7; tolerated, need not be acted on).
   */
  onStreamState?(state: 'reconnecting' | 'connected' | 'paused' | 'resumed'): void;

  /** The session is ending: stop reading local input now. Idempotent. */
  stopInput(): void;

  /**
   * Hands everything received so far to the local side and resolves once it is written (or can
   * no longer be: the reader went away). Output the engine acknowledged must reach the user before
   * exit. The engine bounds the wait (timeouts table), so this need not.
   */
  flushOutput(): Promise<void>;

  /**
   * Optional: the exit code for a session that ended without an error (input-ended, output-closed,
   * closed-by-service); undefined leaves the engine's choice (0, or 8 when channel_closed
   * carried an error text). A shell returns the remote command's ExitCode here.
   */
  exitCode?(): number | undefined;

  /** Release listeners and timers. Last call; called exactly once. */
  dispose(): void;
}
