import { abortable } from '../abortable.js';
import { ReliableStream, type ReliableStreamHandler, type ReliableStreamOptions, type ReliableStreamStats } from '../channel/reliable-stream.js';
import { EXIT_CODES, SIGNAL_EXIT_CODES, SsmProxyError } from '../errors.js';
import type { Logger } from '../log.js';
import {
  decodeChannelClosed,
  decodeHandshakeComplete,
  decodeHandshakeRequest,
  encodeFlag,
  encodeHandshakeResponse,
  FlagValue,
  MessageType,
  PayloadType,
  type Frame,
  type HandshakeRequest,
  type ProtocolError,
} from '../protocol/index.js';
import type { Cancel, Scheduler } from '../scheduler.js';
import type { ConnectionEvents, ConnectionTimeouts, FrameReceiver, StreamAccess } from '../transport/data-channel-connection.js';
import { buildHandshakeResponse } from './handshake.js';
import type { ActionAnswer, HandshakeContext, KindEnd, SessionControl, SessionKind, SessionKindFactory } from './session-kind.js';
import { SESSION_TIMEOUTS, type SessionTimeouts } from './session-timeouts.js';

export type SignalName = keyof typeof SIGNAL_EXIT_CODES;

export interface StartSessionRequest {
  target: string;
  /** Undefined: the account's default (a Standard_Stream shell). */
  documentName?: string;
  parameters?: Record<string, string[]>;
}

export interface StartedSession extends StreamAccess {
  sessionId: string;
}

/** The three SSM API calls a session needs (aws/ssm-api.ts implements them). */
export interface SessionApi {
  startSession(request: StartSessionRequest, options: { signal: AbortSignal }): Promise<StartedSession>;
  /** A fresh token (and URL) for a live session, or undefined when the service says it is over. */
  resumeSession(sessionId: string, options: { signal: AbortSignal }): Promise<StreamAccess | undefined>;
  terminateSession(sessionId: string, options: { signal: AbortSignal }): Promise<void>;
}

/** The connection (websocket) as the engine drives it; transport/data-channel-connection.ts in production. */
export interface SessionConnection {
  /** First socket; rejects when it cannot be opened or `signal` fires. */
  connect(signal: AbortSignal): Promise<void>;
  /** Close on purpose, waiting at most `waitMs` for the close handshake; aborts a dial or resume in progress. */
  close(waitMs: number): Promise<void>;
  readonly reconnectCount: number;
}

export interface ConnectionSetup {
  access: StreamAccess;
  /** The reliable stream: the connection feeds it every frame and attaches itself as its sink. */
  receiver: FrameReceiver;
  events: ConnectionEvents;
  resume(signal: AbortSignal): Promise<StreamAccess | undefined>;
  timeouts: ConnectionTimeouts;
  clientVersion: string;
  scheduler: Scheduler;
  log: Logger;
}

export interface ConnectionFactory {
  (setup: ConnectionSetup): SessionConnection;
  /** Called once the session is over: release what was opened ahead and nobody used. */
  coolDown?(): void;
}

/** Moments worth timing (-v, the benchmark). */
export type SessionPhase = 'StartSession' | 'websocket' | 'handshake';

export interface RunSessionOptions {
  api: SessionApi;
  request: StartSessionRequest;
  kind: SessionKindFactory;
  connection: ConnectionFactory;
  clientVersion: string;
  log: Logger;
  scheduler: Scheduler;
  /** Aborted when the user sends a signal; its reason is the signal's name ('SIGTERM'). */
  signal?: AbortSignal;
  timeouts?: Partial<SessionTimeouts>;
  stream?: Partial<Pick<ReliableStreamOptions, 'windowMessages' | 'receiveBufferBytes' | 'resendTickMs' | 'maxRetransmissionTimeoutMs'>>;
  onPhase?(phase: SessionPhase): void;
}

/** How a session ended. */
export type SessionEnd =
  | KindEnd
  | { reason: 'closed-by-service'; output: string }
  | { reason: 'signal'; signal: SignalName };

export interface SessionOutcome {
  end: SessionEnd;
  exitCode: number;
  /** Undefined when StartSession did not answer. */
  sessionId: string | undefined;
  stats: ReliableStreamStats | undefined;
  reconnects: number;
}

/**
 * Runs one session from StartSession to exit code: StartSession → open the websocket →
 * handshake → stream (resuming after drops) → end. Resolves, never rejects: a failure is
 * `end.reason === 'failed'` with the error to report.
 */
export function runSession(options: RunSessionOptions): Promise<SessionOutcome> {
  return new SessionEngine(options).run();
}

/**
 * States, in order; a session only moves forward:
 *   starting     StartSession is on the wire
 *   connecting   dialling the websocket
 *   handshaking  socket open, waiting for HandshakeComplete (or, handshake 'optional', the first Output)
 *   streaming    the kind moves bytes
 *   draining     input ended: waiting for the agent to acknowledge what was sent
 *   terminating  the TerminateSession flag is out, waiting for its acknowledgement
 *   closing      flushing output, closing the socket, TerminateSession API where due
 *   ended
 * `endSession(reason)` is the only way from the first four into the last four. A more urgent
 * reason (a signal, a failure, the service closing) arriving while a graceful end waits cuts that
 * wait short and takes over.
 */
type State = 'starting' | 'connecting' | 'handshaking' | 'streaming' | 'draining' | 'terminating' | 'closing' | 'ended';

class SessionEngine implements ReliableStreamHandler {
  private state: State = 'starting';
  private readonly timeouts: SessionTimeouts;
  private end: SessionEnd | undefined;
  /** Aborted when the session starts to end: every phase in progress gives up. */
  private readonly ending = new AbortController();
  /** Replaced each time a more urgent end arrives: aborting it cuts the current wait short. */
  private cut = new AbortController();
  private readonly ended: Promise<void>;
  private markEnded!: () => void;

  private session: StartedSession | undefined;
  private stream: ReliableStream | undefined;
  private kind: SessionKind | undefined;
  private connection: SessionConnection | undefined;
  private cancelHandshakeTimer: Cancel | undefined;
  private handshakeRequested = false;
  private agentVersion = '';
  private streamOpened = false;
  private serviceClosed = false;
  private framesDropped = 0;

  constructor(private readonly options: RunSessionOptions) {
    this.timeouts = { ...SESSION_TIMEOUTS, ...options.timeouts };
    this.ended = new Promise((resolve) => {
      this.markEnded = resolve;
    });
  }

  async run(): Promise<SessionOutcome> {
    const { signal } = this.options;
    const onSignal = () => this.endSession({ reason: 'signal', signal: signalName(signal?.reason) });
    if (signal?.aborted) onSignal();
    signal?.addEventListener('abort', onSignal, { once: true });
    try {
      await this.start();
      await this.ended;
    } finally {
      signal?.removeEventListener('abort', onSignal);
    }
    const end = this.end!;
    return {
      end,
      exitCode: this.exitCode(end),
      sessionId: this.session?.sessionId,
      stats: this.stream?.stats,
      reconnects: this.connection?.reconnectCount ?? 0,
    };
  }

  /** StartSession, then the first socket. Any failure ends the session. */
  private async start(): Promise<void> {
    const { api, request, log, scheduler } = this.options;
    if (this.end) return;
    const abort = this.ending.signal;
    try {
      log.info(`starting a session on ${request.target}`);
      this.session = await abortable(api.startSession(request, { signal: abort }), abort);
    } catch (error) {
      if (!abort.aborted) this.endSession(failure(error));
      return;
    }
    const session = this.session;
    log.addSecret(session.tokenValue);
    log.info(`session ${session.sessionId} started`);
    this.options.onPhase?.('StartSession');
    const stream = (this.stream = new ReliableStream({
      ...this.options.stream,
      outgoingMessageType: MessageType.inputStreamData,
      incomingMessageType: MessageType.outputStreamData,
      scheduler,
      stallTimeoutMs: this.timeouts.stallMs,
      handler: this,
    }));
    this.kind = this.options.kind(this.control(stream, session));
    this.connection = this.options.connection({
      access: session,
      receiver: stream,
      events: this.connectionEvents,
      resume: async (signal) => {
        const resumed = await api.resumeSession(session.sessionId, { signal });
        // A resume may move the session to another URL (docs/protocol.md §11.2); keep the old one otherwise.
        return resumed && { tokenValue: resumed.tokenValue, streamUrl: resumed.streamUrl || session.streamUrl };
      },
      timeouts: {
        upgradeMs: this.timeouts.upgradeMs,
        pingIntervalMs: this.timeouts.pingIntervalMs,
        livenessTimeoutMs: this.timeouts.livenessTimeoutMs,
        reconnectBudgetMs: this.timeouts.reconnectBudgetMs,
      },
      clientVersion: this.options.clientVersion,
      scheduler,
      log,
    });
    if (this.end) return; // ended while the kind was being built
    this.state = 'connecting';
    try {
      await this.connection.connect(abort);
    } catch (error) {
      if (!abort.aborted) this.endSession(failure(error));
    }
  }

  private control(stream: ReliableStream, session: StartedSession): SessionControl {
    const engine = this;
    return {
      sessionId: session.sessionId,
      target: this.options.request.target,
      clientVersion: this.options.clientVersion,
      log: this.options.log,
      scheduler: this.options.scheduler,
      signal: this.ending.signal,
      send: (payloadType, payload) => (engine.end === undefined ? stream.write(payloadType, payload) : false),
      get hasRoom() {
        return engine.end === undefined && stream.hasRoom;
      },
      pauseIncoming: () => stream.pauseReading(),
      resumeIncoming: () => stream.resumeReading(),
      end: (reason) => engine.endSession(reason),
    };
  }

  private readonly connectionEvents: ConnectionEvents = {
    onConnected: () => {
      if (this.state === 'connecting') {
        this.options.onPhase?.('websocket');
        this.state = 'handshaking';
        this.startHandshakeTimer();
      }
      this.kind?.onStreamState?.('connected');
    },
    onReconnecting: () => this.kind?.onStreamState?.('reconnecting'),
    onFailure: (error) => this.endSession({ reason: 'failed', error }),
  };

  private startHandshakeTimer(): void {
    const { handshakeMs } = this.timeouts;
    this.cancelHandshakeTimer = this.options.scheduler.setTimeout(() => {
      if (this.state !== 'handshaking') return;
      const seconds = Math.round(handshakeMs / 100) / 10;
      const target = this.options.request.target;
      const what = this.kind?.handshake === 'optional' ? `start the ${this.kind.name} session` : 'complete the session handshake';
      this.endSession({
        reason: 'failed',
        error: new SsmProxyError('timeout', `the SSM agent on ${target} did not ${what} within ${seconds} s; check that the agent is running and up to date`),
      });
    }, handshakeMs);
  }

  // ReliableStreamHandler: the stream calls these for what arrives.

  onStreamMessage(frame: Frame): void {
    const kind = this.kind;
    if (!kind || this.state === 'ended') return;
    const type = frame.payloadType;
    if (type === PayloadType.handshakeRequest) return this.onHandshakeRequest(frame.payload, kind);
    if (type === PayloadType.handshakeComplete) return this.onHandshakeComplete(frame.payload, kind);
    if (!this.streamOpened && type === PayloadType.output) {
      // Without a handshake an agent starts a shell by sending output (docs/protocol.md §8.4); a Port session
      // never does, and stream bytes before HandshakeComplete are not the session's.
      if (kind.handshake === 'required' || this.handshakeRequested || this.state !== 'handshaking') {
        this.options.log.debug(`ignoring ${frame.payload.length} stream bytes before the handshake completed`);
        return;
      }
      this.openStream(kind, false, '');
    }
    kind.receive(type, frame.payload);
  }

  onControlMessage(frame: Frame): void {
    switch (frame.messageType) {
      case MessageType.channelClosed: {
        const closed = decodeChannelClosed(frame.payload);
        this.serviceClosed = true;
        if (closed.output) this.options.log.error(closed.output.trim());
        // The service is done with this session: no resume when its socket goes, whatever is still to flush.
        void this.connection?.close(this.timeouts.closeSocketUrgentMs);
        this.endSession({ reason: 'closed-by-service', output: closed.output });
        return;
      }
      case MessageType.pausePublication:
        this.kind?.onStreamState?.('paused');
        return;
      case MessageType.startPublication:
        this.kind?.onStreamState?.('resumed');
        return;
      default:
        // Unknown types (agent_session_state, ...) are tolerated and ignored (docs/protocol.md §7, pitfall 24).
        this.options.log.debug(`ignoring ${frame.messageType || 'untyped'} message`);
    }
  }

  onWritable(): void {
    if (this.end === undefined) this.kind?.onWritable();
  }

  onProtocolError(error: ProtocolError): void {
    this.framesDropped++;
    this.options.log.debug(`dropped a frame: ${error.message}`);
  }

  onStalled(): void {
    const target = this.options.request.target;
    this.endSession({ reason: 'failed', error: new SsmProxyError('timeout', `the agent on ${target} stopped acknowledging data`) });
  }

  private onHandshakeRequest(payload: Buffer, kind: SessionKind): void {
    if (this.handshakeRequested || this.streamOpened || this.end) return;
    const request = decodeHandshakeRequest(payload);
    if (!request.ok) {
      this.endSession({ reason: 'failed', error: new SsmProxyError('protocol', `malformed handshake request from the agent: ${request.error.message}`) });
      return;
    }
    this.handshakeRequested = true;
    this.agentVersion = request.value.agentVersion;
    this.options.log.info(`agent ${request.value.agentVersion || '(unknown version)'} requests a handshake`);
    const context: HandshakeContext = { request: request.value, signal: this.ending.signal };
    let answers: (ActionAnswer | Promise<ActionAnswer>)[];
    try {
      answers = request.value.requestedClientActions.map((action) => kind.answerAction(action, context));
    } catch (error) {
      this.endSession(failure(error));
      return;
    }
    if (answers.some((answer) => answer instanceof Promise)) {
      Promise.all(answers).then(
        (settled) => this.answerHandshake(request.value, settled),
        (error: unknown) => this.endSession(failure(error)),
      );
    } else {
      this.answerHandshake(request.value, answers as ActionAnswer[]);
    }
  }

  private answerHandshake(request: HandshakeRequest, answers: ActionAnswer[]): void {
    if (this.end || !this.stream) return;
    const { response, refusal } = buildHandshakeResponse(request.requestedClientActions, answers, this.options.clientVersion);
    this.stream.write(PayloadType.handshakeResponse, encodeHandshakeResponse(response));
    if (refusal) this.endSession({ reason: 'failed', error: new SsmProxyError('protocol', refusal) });
  }

  private onHandshakeComplete(payload: Buffer, kind: SessionKind): void {
    if (this.streamOpened || this.end) return;
    const complete = decodeHandshakeComplete(payload);
    const customerMessage = complete.ok ? complete.value.customerMessage : '';
    if (customerMessage) this.options.log.info(customerMessage);
    this.openStream(kind, true, customerMessage);
  }

  private openStream(kind: SessionKind, handshakeCompleted: boolean, customerMessage: string): void {
    this.cancelHandshakeTimer?.();
    this.streamOpened = true;
    this.state = 'streaming';
    this.options.log.info(handshakeCompleted ? 'session handshake complete; streaming' : 'the agent started the session without a handshake; streaming');
    this.options.onPhase?.('handshake');
    // The agent's plugin takes no data until it has dialled the destination or started the pty
    // ("not ready", docs/protocol.md §10.2): resend the first data early rather than after an RTO.
    this.stream?.expectNotReady();
    kind.start({ handshakeCompleted, customerMessage, agentVersion: this.agentVersion });
  }

  /**
   * The one way a session ends. The first reason starts the ending; a later, more urgent one
   * (see `urgency`) takes over and cuts the current wait short.
   */
  private endSession(end: SessionEnd): void {
    if (this.end === undefined) {
      this.end = end;
      this.ending.abort(new SsmProxyError('internal', `the session is ending (${end.reason})`));
      void this.finish();
      return;
    }
    if (this.state === 'ended' || urgency(end) <= urgency(this.end)) return;
    // channel_closed after our TerminateSession flag is the agent's answer to it: stop waiting for
    // the flag's acknowledgement, but the session still ended the way it was ending.
    if (end.reason !== 'closed-by-service' || this.state !== 'terminating') this.end = end;
    const cut = this.cut;
    this.cut = new AbortController();
    cut.abort();
  }

  /** draining → terminating → closing → ended, each step bounded by the timeouts table. */
  private async finish(): Promise<void> {
    const { log } = this.options;
    const t = this.timeouts;
    this.cancelHandshakeTimer?.();
    this.kind?.stopInput();
    const stream = this.stream;

    if (this.end!.reason === 'input-ended' && this.streamOpened && stream) {
      this.state = 'draining';
      await this.waitCut(stream.allAcknowledged(), t.drainAcksMs);
      if (this.end!.reason === 'input-ended' && stream.unackedCount > 0) {
        log.warn(`${stream.unackedCount} messages were still unacknowledged when the input ended`);
      }
    }

    // Tell the agent when the end is ours (docs/protocol.md §10.6); it discards stream messages before HandshakeComplete.
    if (flagDue(this.end!) && this.streamOpened && stream?.isAttached && !this.serviceClosed) {
      this.state = 'terminating';
      stream.write(PayloadType.flag, encodeFlag(FlagValue.terminateSession));
      await this.waitCut(stream.allAcknowledged(), urgency(this.end!) >= 2 ? t.flagAckUrgentMs : t.flagAckMs);
    }

    this.state = 'closing';
    if (flushDue(this.end!) && this.kind) await this.waitCut(this.kind.flushOutput(), t.flushOutputMs);
    const end = this.end!;
    const graceful = end.reason === 'input-ended' || end.reason === 'closed-by-service';
    await Promise.all([
      this.connection?.close(graceful ? t.closeSocketMs : t.closeSocketUrgentMs),
      apiDue(end, this.serviceClosed) ? this.terminateQuietly() : undefined,
    ]);

    this.state = 'ended';
    this.options.connection.coolDown?.();
    stream?.close();
    this.kind?.dispose();
    if (this.framesDropped > 0) log.info(`dropped ${this.framesDropped} malformed frames during the session`);
    this.markEnded();
  }

  /** TerminateSession API, bounded, never failing the session: the service ends it on its own later. */
  private async terminateQuietly(): Promise<void> {
    const session = this.session;
    if (!session) return;
    const { log, scheduler } = this.options;
    const timeout = new AbortController();
    const cancel = scheduler.setTimeout(
      () => timeout.abort(new Error(`no answer within ${this.timeouts.terminateApiMs} ms`)),
      this.timeouts.terminateApiMs,
    );
    try {
      await abortable(this.options.api.terminateSession(session.sessionId, { signal: timeout.signal }), timeout.signal);
      log.info(`session ${session.sessionId} terminated`);
    } catch (error) {
      log.info(`could not terminate session ${session.sessionId}: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      cancel();
    }
  }

  /** Waits for `promise`, at most `ms`, and no longer once a more urgent end cuts in. */
  private waitCut(promise: Promise<unknown>, ms: number): Promise<void> {
    const cut = this.cut.signal;
    return new Promise((resolve) => {
      const done = () => {
        cancel();
        cut.removeEventListener('abort', done);
        resolve();
      };
      const cancel = this.options.scheduler.setTimeout(done, ms);
      cut.addEventListener('abort', done, { once: true });
      promise.then(done, done);
    });
  }

  private exitCode(end: SessionEnd): number {
    if (end.reason === 'failed') return EXIT_CODES[end.error.kind];
    if (end.reason === 'signal') return SIGNAL_EXIT_CODES[end.signal];
    const fromKind = this.kind?.exitCode?.();
    if (fromKind !== undefined) return fromKind;
    if (end.reason === 'closed-by-service' && end.output.trim()) return EXIT_CODES['session-ended'];
    return 0;
  }
}

/** 0: graceful, 1: the service ended it, 2: cut short (signal, failure, reader gone). */
function urgency(end: SessionEnd): number {
  if (end.reason === 'input-ended') return 0;
  if (end.reason === 'closed-by-service') return 1;
  return 2;
}

/** The TerminateSession flag goes to the agent when the end is ours. */
function flagDue(end: SessionEnd): boolean {
  return end.reason === 'input-ended' || end.reason === 'output-closed' || end.reason === 'signal';
}

/** Output the agent was told we have must reach the reader, unless the reader is gone or the user wants out. */
function flushDue(end: SessionEnd): boolean {
  return end.reason === 'input-ended' || end.reason === 'closed-by-service' || end.reason === 'failed';
}

/**
 * The TerminateSession API makes sure the service session ends when the agent may not have
 * heard. On a signal or a vanished reader it is called even after channel_closed (README: a
 * signal sends the flag and calls the API); after a failure, not once the service said it is over.
 */
function apiDue(end: SessionEnd, serviceClosed: boolean): boolean {
  if (end.reason === 'failed') return end.error.kind !== 'session-ended' && !serviceClosed;
  return end.reason === 'output-closed' || end.reason === 'signal';
}

function signalName(reason: unknown): SignalName {
  return reason === 'SIGINT' || reason === 'SIGHUP' || reason === 'SIGTERM' ? reason : 'SIGTERM';
}

function failure(error: unknown): SessionEnd {
  if (error instanceof SsmProxyError) return { reason: 'failed', error };
  const message = error instanceof Error ? error.message : String(error);
  return { reason: 'failed', error: new SsmProxyError('internal', message, { cause: error }) };
}
