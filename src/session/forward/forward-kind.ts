import { SessionTypeName, type RequestedClientAction } from '../../protocol/index.js';
import { answerSessionType, refuseAction } from '../handshake.js';
import type { ActionAnswer, SessionControl, SessionKind, SessionKindFactory, StreamStart } from '../session-kind.js';
import { isNewerThan, MUX_AFTER_AGENT_VERSION, NO_KEEPALIVE_AFTER_AGENT_VERSION } from './agent-version.js';
import { BasicForwarder } from './basic-forwarder.js';
import { IncomingGate, type Forwarder } from './forwarder.js';
import type { LocalListener } from './local-listener.js';
import { MuxForwarder } from './mux-forwarder.js';

export type ForwardMode = 'multiplexed' | 'basic';

export interface ForwardReady {
  mode: ForwardMode;
  agentVersion: string;
  sessionId: string;
}

export interface ForwardKindOptions {
  listener: LocalListener;
  /** `host:port` as the agent dials it (`localhost:port` without --host), for messages. */
  destination: string;
  /** The tunnel carries connections: print the ready line. */
  onReady(ready: ForwardReady): void;
  /** The first local connection was accepted (the plugin prints a line for it). */
  onFirstConnection?(): void;
  /** Output budget for the multiplexed mode (tests use small ones). */
  slabBytes?: number;
  budgetSlabs?: number;
}

const LOCAL_PORT_FORWARDING = 'LocalPortForwarding';
const SMUX_KEEPALIVE_MS = 10_000;

export function createPortForwardKind(options: ForwardKindOptions): SessionKindFactory {
  return (session) => new PortForwardKind(session, options);
}

/**
 * Port forwarding (AWS-StartPortForwardingSession[ToRemoteHost], §16): a local
 * listener whose connections travel over the session, multiplexed with smux when the agent can
 * (> 3.0.196.0), one at a time otherwise. Runs until the engine ends the session (Ctrl-C, the
 * service closing it); connections come and go meanwhile, and a websocket drop only delays them.
 */
class PortForwardKind implements SessionKind {
  readonly name = 'port forwarding';
  readonly handshake = 'required' as const;
  private readonly gate: IncomingGate;
  private forwarder: Forwarder | undefined;
  private stopped = false;

  constructor(
    private readonly session: SessionControl,
    private readonly options: ForwardKindOptions,
  ) {
    this.gate = new IncomingGate(
      () => session.pauseIncoming(),
      () => session.resumeIncoming(),
      (message) => session.log.debug(message),
    );
  }

  answerAction(action: RequestedClientAction): ActionAnswer {
    if (action.actionType !== 'SessionType') return refuseAction(action, this.name);
    return answerSessionType(
      action,
      [SessionTypeName.port],
      (name) =>
        `the session document starts a ${name} session; ssm-proxy forward needs a Port session (use AWS-StartPortForwardingSession or AWS-StartPortForwardingSessionToRemoteHost)`,
      (properties) =>
        properties.type === LOCAL_PORT_FORWARDING ? undefined : `its properties have type '${String(properties.type ?? '')}', not ${LOCAL_PORT_FORWARDING}`,
    );
  }

  start(stream: StreamStart): void {
    const { session, options } = this;
    const mode: ForwardMode = isNewerThan(stream.agentVersion, MUX_AFTER_AGENT_VERSION) ? 'multiplexed' : 'basic';
    if (mode === 'multiplexed') {
      // Agents up to 3.1.1511.0 close a silent mux after 30 s unless the client sends NOPs; newer
      // ones turn keep-alive off for clients like ours, and NOPs would defeat the idle timeout.
      const keepAlive = !isNewerThan(stream.agentVersion, NO_KEEPALIVE_AFTER_AGENT_VERSION);
      this.forwarder = new MuxForwarder({
        session,
        gate: this.gate,
        destination: options.destination,
        ...(keepAlive ? { keepAliveMs: SMUX_KEEPALIVE_MS } : {}),
        ...(options.slabBytes ? { slabBytes: options.slabBytes } : {}),
        ...(options.budgetSlabs ? { budgetSlabs: options.budgetSlabs } : {}),
      });
    } else {
      this.forwarder = new BasicForwarder({ session, gate: this.gate, destination: options.destination });
    }
    session.log.info(`agent ${stream.agentVersion || '(unknown version)'}: ${mode} port forwarding`);
    const forwarder = this.forwarder;
    let first = true;
    options.listener.onConnection((socket) => {
      if (this.stopped) {
        socket.destroy();
        return;
      }
      if (first) {
        first = false;
        options.onFirstConnection?.();
      }
      forwarder.accept(socket);
    });
    options.onReady({ mode, agentVersion: stream.agentVersion, sessionId: session.sessionId });
  }

  /** Local connections being carried (or waiting, in basic mode). */
  get openConnections(): number {
    return this.forwarder?.openConnections ?? 0;
  }

  /** Bytes held for local readers (output budget slabs in use), for tests and the benchmark. */
  get bufferedBytes(): number {
    return this.forwarder?.bufferedBytes ?? 0;
  }

  receive(payloadType: number, payload: Buffer): void {
    this.forwarder?.receive(payloadType, payload);
  }

  onWritable(): void {
    this.forwarder?.onWritable();
  }

  onStreamState(state: 'reconnecting' | 'connected' | 'paused' | 'resumed'): void {
    const open = this.forwarder?.openConnections ?? 0;
    if (state === 'reconnecting') {
      this.session.log.info(`websocket lost; resuming the session (the listener stays open, ${open} connections held)`);
    } else if (state === 'connected' && this.forwarder) {
      this.session.log.info(`websocket up; ${open} connections carry on`);
    }
  }

  stopInput(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.options.listener.close();
    this.forwarder?.stopInput();
  }

  flushOutput(): Promise<void> {
    return this.forwarder?.flushOutput() ?? Promise.resolve();
  }

  dispose(): void {
    this.stopped = true;
    this.options.listener.close();
    if (this.forwarder) this.session.log.info(`port forwarding: ${this.forwarder.summary()}`);
    this.forwarder?.dispose();
  }
}

