/**
 * An in-memory world for the session engine: a scripted SSM API, a connection that wires the
 * engine's reliable stream to an agent-side ReliableStream through synchronous sinks, and the
 * ManualScheduler for time. Nothing here opens a socket.
 */
import { PassThrough, Writable } from 'node:stream';
import { ReliableStream, type FrameSink } from '../../src/channel/reliable-stream.js';
import { SsmProxyError } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';
import {
  encodeChannelClosed,
  encodeFrame,
  encodeHandshakeComplete,
  encodeHandshakeRequest,
  HeaderFlag,
  MessageType,
  PayloadType,
  randomMessageId,
  type Frame,
  type RequestedClientAction,
} from '../../src/protocol/index.js';
import { portOverStdio } from '../../src/session/port-over-stdio.js';
import {
  runSession,
  type ConnectionSetup,
  type RunSessionOptions,
  type SessionApi,
  type SessionConnection,
  type SessionOutcome,
} from '../../src/session/run-session.js';
import type { SessionKindFactory } from '../../src/session/session-kind.js';
import { ManualScheduler } from '../helpers/manual-scheduler.js';

export const TARGET = 'i-0123456789abcdef0';

/** A promise that settles only when `signal` aborts (a stalled call). */
function stalled<T>(signal: AbortSignal): Promise<T> {
  return new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
}

export interface ApiScript {
  /** 'ok' (default), 'stall' (never answers), or an error to throw. */
  start?: 'ok' | 'stall' | SsmProxyError;
  resume?: 'ok' | 'over';
  terminate?: 'ok' | 'stall';
}

export interface ConnectScript {
  /** 'ok' (default): the first socket opens at once; 'stall': never opens; `{ afterMs }`: opens later; or an error. */
  first?: 'ok' | 'stall' | { afterMs: number } | SsmProxyError;
}

export interface EngineWorldOptions {
  api?: ApiScript;
  connect?: ConnectScript;
  kind?: SessionKindFactory;
  output?: Writable;
  timeouts?: RunSessionOptions['timeouts'];
  stream?: RunSessionOptions['stream'];
}

export function engineWorld(options: EngineWorldOptions = {}) {
  const scheduler = new ManualScheduler();
  const logLines: string[] = [];
  const log = createLogger({ verbosity: 2, write: (line) => logLines.push(line) });
  const input = new PassThrough();
  const stdout: Buffer[] = [];
  const output =
    options.output ??
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        stdout.push(Buffer.from(chunk)); // the writer reuses its buffers once a write is done
        callback();
      },
    });
  const calls: string[] = [];
  const api: SessionApi = {
    startSession: (request, { signal }) => {
      calls.push(`StartSession ${request.target} ${request.documentName ?? '-'}`);
      const script = options.api?.start ?? 'ok';
      if (script === 'stall') return stalled(signal);
      if (script instanceof SsmProxyError) return Promise.reject(script);
      return Promise.resolve({ sessionId: 's-1', tokenValue: 'token-value-1', streamUrl: 'wss://example/s-1' });
    },
    resumeSession: (sessionId) => {
      calls.push(`ResumeSession ${sessionId}`);
      if (options.api?.resume === 'over') return Promise.resolve(undefined);
      return Promise.resolve({ tokenValue: 'token-value-2', streamUrl: '' });
    },
    terminateSession: (sessionId, { signal }) => {
      calls.push(`TerminateSession ${sessionId}`);
      if (options.api?.terminate === 'stall') return stalled(signal);
      return Promise.resolve();
    },
  };

  const fromClient: Frame[] = [];
  /** The agent's side of the reliable stream. */
  const agent = new ReliableStream({
    outgoingMessageType: MessageType.outputStreamData,
    incomingMessageType: MessageType.inputStreamData,
    scheduler,
    handler: {
      onStreamMessage: (frame) => void fromClient.push({ ...frame, payload: Buffer.from(frame.payload) }),
      onControlMessage: () => undefined,
      onWritable: () => undefined,
      onProtocolError: () => undefined,
      onStalled: () => undefined,
    },
  });
  let setup: ConnectionSetup | undefined;
  const closes: number[] = [];
  let connected = false;
  /** Whether the agent reads what the client sends (false: frames to the agent are lost). */
  let agentListening = true;
  const toAgent: FrameSink = { sendFrame: (frame) => (agentListening ? agent.receive(frame) : undefined) };

  const connection = (given: ConnectionSetup): SessionConnection => {
    setup = given;
    const open = () => {
      connected = true;
      given.receiver.attach(toAgent);
      agent.attach({ sendFrame: (frame) => (connected ? given.receiver.receive(frame) : undefined) });
      given.events.onConnected?.();
    };
    return {
      connect: (signal) => {
        const script = options.connect?.first ?? 'ok';
        if (script === 'stall') return stalled(signal);
        if (script instanceof SsmProxyError) return Promise.reject(script);
        if (script === 'ok') {
          open();
          return Promise.resolve();
        }
        return new Promise((resolve, reject) => {
          const cancel = scheduler.setTimeout(() => {
            open();
            resolve();
          }, script.afterMs);
          signal.addEventListener('abort', () => (cancel(), reject(signal.reason)), { once: true });
        });
      },
      close: (waitMs) => {
        closes.push(waitMs);
        connected = false;
        given.receiver.detach();
        agent.detach();
        return Promise.resolve();
      },
      get reconnectCount() {
        return 0;
      },
    };
  };

  const controller = new AbortController();
  const outcome: Promise<SessionOutcome> = runSession({
    api,
    request: { target: TARGET, documentName: 'AWS-StartSSHSession', parameters: { portNumber: ['22'] } },
    kind: options.kind ?? portOverStdio({ input, output }),
    connection,
    clientVersion: '1.2.764.0',
    log,
    scheduler,
    signal: controller.signal,
    ...(options.timeouts ? { timeouts: options.timeouts } : {}),
    ...(options.stream ? { stream: options.stream } : {}),
  });

  const sendHandshake = (actions: RequestedClientAction[] = [{ actionType: 'SessionType', actionParameters: { SessionType: 'Port', Properties: { portNumber: '22' } } }]) =>
    agent.write(PayloadType.handshakeRequest, encodeHandshakeRequest({ agentVersion: '3.3.987.0', requestedClientActions: actions }));
  const complete = (customerMessage = '') =>
    agent.write(PayloadType.handshakeComplete, encodeHandshakeComplete({ handshakeTimeToCompleteNs: 1_500_000, customerMessage }));
  const sendChannelClosed = (text: string) =>
    setup!.receiver.receive(
      encodeFrame({
        messageType: MessageType.channelClosed,
        sequenceNumber: 0,
        flags: HeaderFlag.synFin,
        messageId: randomMessageId(),
        payloadType: PayloadType.none,
        payload: encodeChannelClosed({ messageId: 'x', createdDate: 'now', destinationId: TARGET, sessionId: 's-1', output: text }),
      }),
    );
  /** Lets promise callbacks and stream events run. */
  const settle = async (turns = 5) => {
    for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
  };
  /** Advances time in steps, letting I/O and promises run between them, until `outcome` settles or `ms` pass. */
  const runFor = async (ms: number, step = 10) => {
    let done = false;
    void outcome.then(() => (done = true));
    for (let elapsed = 0; elapsed < ms && !done; elapsed += step) {
      await settle(2);
      scheduler.advance(step);
    }
    await settle(2);
  };
  return {
    scheduler,
    agent,
    input,
    output,
    stdout,
    fromClient,
    calls,
    closes,
    logLines,
    outcome,
    sendHandshake,
    complete,
    sendChannelClosed,
    settle,
    runFor,
    signal: (name: 'SIGINT' | 'SIGTERM' | 'SIGHUP') => controller.abort(name),
    /** The agent stops reading (its acks stop coming). */
    deafenAgent: () => {
      agentListening = false;
    },
    setup: () => setup,
  };
}
