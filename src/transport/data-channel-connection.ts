import { randomUUID } from 'node:crypto';
import type { Agent } from 'node:http';
import type { Duplex } from 'node:stream';
import type { AwsCredentialIdentity } from '@smithy/types';
import type WebSocket from 'ws';
import type { FrameSink } from '../channel/reliable-stream.js';
import { abortable } from '../abortable.js';
import { SsmProxyError } from '../errors.js';
import type { Logger } from '../log.js';
import { encodeOpenDataChannelInput } from '../protocol/open-data-channel.js';
import type { Cancel, Scheduler } from '../scheduler.js';
import { MaskedFrameEncoder } from './masked-frame-encoder.js';
import { describeEndpoint, openWebSocket } from './open-websocket.js';
import { signUpgradeHeaders } from './sign-upgrade.js';
import { rewriteStreamUrl } from './stream-url.js';

/** The StreamUrl and TokenValue that open the data channel (from StartSession or ResumeSession). */
export interface StreamAccess {
  streamUrl: string;
  tokenValue: string;
}

/** What the connection feeds: the reliable stream (channel/reliable-stream.ts) in production. */
export interface FrameReceiver {
  /** One websocket message from the service: one data-channel frame. */
  receive(data: Buffer): void;
  /** A socket is open and OpenDataChannelInput was sent: frames may flow through `sink`. */
  attach(sink: FrameSink): void;
  /** The socket is gone; a reconnect may follow. */
  detach(): void;
}

export interface ConnectionEvents {
  /** A socket is up (the first one, and after each resume). */
  onConnected?(): void;
  /** The socket dropped and the session is being resumed. */
  onReconnecting?(): void;
  /** The connection is lost for good. */
  onFailure(error: SsmProxyError): void;
}

export interface ConnectionTimeouts {
  /** TCP + TLS + proxy + websocket upgrade, as one deadline. */
  upgradeMs: number;
  /** How often to ping; also how often liveness is checked. */
  pingIntervalMs: number;
  /** Silence (no message, no pong) after which the socket is considered dead. */
  livenessTimeoutMs: number;
  /** How long to keep trying ResumeSession + reconnect after a drop. */
  reconnectBudgetMs: number;
}

export interface DataChannelConnectionOptions {
  access: StreamAccess;
  /** Gets every frame straight from the socket, and the socket as its sink. */
  receiver: FrameReceiver;
  region: string;
  clientId: string;
  clientVersion: string;
  /** Resolved afresh for every dial, so expiring credentials are renewed (docs/protocol.md pitfall 17). */
  credentials: () => Promise<AwsCredentialIdentity>;
  /** ResumeSession: a new token (and maybe URL), or undefined when the session is over. */
  resume: (signal: AbortSignal) => Promise<StreamAccess | undefined>;
  scheduler: Scheduler;
  log: Logger;
  events: ConnectionEvents;
  timeouts: ConnectionTimeouts;
  /** The agent for a websocket URL (proxy, CA bundle); undefined = Node's default. */
  agentFor?: (url: URL) => Agent | undefined;
  /** `--ssmmessages-endpoint` (PrivateLink): dial this scheme+host+port instead of the StreamUrl's. */
  ssmmessagesEndpoint?: URL | undefined;
  /** A connection opened ahead to the URL's host (warm-socket.ts), used by the first dial instead of the agent. */
  takeWarmSocket?: (url: URL) => Duplex | undefined;
}

type State = 'idle' | 'open' | 'reconnecting' | 'closed';

/**
 * The websocket side of one session (AWS's "data channel"): dial with a SigV4-signed upgrade,
 * send OpenDataChannelInput (docs/protocol.md §3.2), keep the socket alive with pings, and when it drops,
 * ResumeSession and dial again (docs/protocol.md §11.2) within a budget of minutes, not seconds (docs/protocol.md pitfall 19).
 * Frames go straight to the receiver (the reliable stream), which keeps sequence state across
 * sockets; `close()` cuts every pending step short (dial, resume, back-off).
 */
export class DataChannelConnection implements FrameSink {
  private access: StreamAccess;
  private socket: WebSocket | undefined;
  private state: State = 'idle';
  private lastHeardAt = 0;
  private stopPinging: Cancel | undefined;
  private reconnects = 0;
  /** We stopped reading (back-pressure): silence from the socket is then expected. */
  private incomingPaused = false;
  /** Aborted by `close()`: whatever is in progress gives up. */
  private readonly closing = new AbortController();
  /** The TCP socket corked for this turn's frames (see `batchThisTurn`). */
  private corked: Duplex | undefined;
  private readonly encoder = new MaskedFrameEncoder();

  constructor(private readonly options: DataChannelConnectionOptions) {
    this.access = options.access;
    options.log.addSecret(options.access.tokenValue);
  }

  /** Number of successful reconnects so far. */
  get reconnectCount(): number {
    return this.reconnects;
  }

  /**
   * Opens the first socket. Rejects with an SsmProxyError when it cannot, or with the abort
   * reason when `signal` fires or `close()` is called first.
   */
  async connect(signal?: AbortSignal): Promise<void> {
    const abort = signal ? AbortSignal.any([signal, this.closing.signal]) : this.closing.signal;
    const socket = await this.dial(this.access, abort);
    if (this.state === 'closed') {
      socket.terminate();
      return;
    }
    this.adopt(socket);
  }

  /**
   * Frames go onto the TCP socket under ws, masked by our own encoder (masked-frame-encoder.ts:
   * ws's JavaScript masker was a fifth of an upload's CPU). That keeps their order with what ws
   * itself sends (OpenDataChannelInput, pings, close): ws writes synchronously as long as it
   * compresses nothing (perMessageDeflate is off) and sends no Blob, so neither of us queues.
   */
  sendFrame(frame: Buffer): void {
    const socket = this.socket;
    if (!socket || socket.readyState !== socket.OPEN) return;
    const raw = rawSocketOf(socket);
    if (!raw) {
      socket.send(frame); // not where ws 8 keeps it: let ws frame it
      return;
    }
    if (raw.destroyed) return; // ws is about to report the close; the stream resends
    this.batchThisTurn(raw);
    raw.write(this.encoder.encode(frame));
  }

  /**
   * One write syscall per turn of the event loop instead of one per frame: the TCP socket under
   * the websocket is corked at the first frame of a turn and uncorked once the turn's synchronous
   * work is done (a microtask), so the frames and acks of one stdin chunk or one socket read leave
   * together. Corks nest (ws corks around its own frames), so nothing leaves before ours is undone.
   */
  private batchThisTurn(raw: Duplex): void {
    if (this.corked) return;
    raw.cork();
    this.corked = raw;
    queueMicrotask(this.uncork);
  }

  private readonly uncork = (): void => {
    const raw = this.corked;
    this.corked = undefined;
    raw?.uncork();
  };

  pauseIncoming(): void {
    this.incomingPaused = true;
    this.socket?.pause();
  }

  resumeIncoming(): void {
    this.incomingPaused = false;
    this.lastHeardAt = this.options.scheduler.now(); // the silence was ours, not the peer's
    this.socket?.resume();
  }

  /** Ends the connection on purpose: close 1000, no reconnect. Waits up to `waitMs` for the close. */
  close(waitMs: number): Promise<void> {
    this.state = 'closed';
    this.closing.abort(new SsmProxyError('internal', 'the data channel was closed'));
    this.stopPinging?.();
    const socket = this.socket;
    this.socket = undefined;
    if (socket) this.options.receiver.detach();
    if (!socket || socket.readyState === socket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      const cancel = this.options.scheduler.setTimeout(() => {
        socket.terminate();
        resolve();
      }, waitMs);
      socket.once('close', () => {
        cancel();
        resolve();
      });
      socket.close(1000);
    });
  }

  private async dial(access: StreamAccess, signal: AbortSignal): Promise<WebSocket> {
    const streamUrl = rewriteStreamUrl(access.streamUrl, this.options.ssmmessagesEndpoint);
    let url: URL;
    try {
      url = new URL(streamUrl);
    } catch {
      throw new SsmProxyError('protocol', 'the service returned an invalid StreamUrl');
    }
    if (url.protocol !== 'wss:' && url.protocol !== 'ws:') {
      throw new SsmProxyError('protocol', `the StreamUrl is not a websocket URL (${url.protocol})`);
    }
    const credentials = await abortable(this.options.credentials(), signal);
    const headers = await signUpgradeHeaders(url, this.options.region, credentials);
    this.options.log.debug(`opening data channel ${describeEndpoint(streamUrl)}`);
    // A connection opened ahead exists only where it may stand in for the agent (no proxy; a
    // custom CA bundle verified when it was opened: session/websocket-connection.ts).
    const warm = this.options.takeWarmSocket?.(url);
    const agent = warm ? undefined : this.options.agentFor?.(url);
    const socket = await openWebSocket(streamUrl, {
      headers,
      handshakeTimeoutMs: this.options.timeouts.upgradeMs,
      signal,
      ...(agent ? { agent } : {}),
      ...(warm ? { socket: warm } : {}),
    });
    socket.send(
      encodeOpenDataChannelInput({
        requestId: randomUUID(),
        tokenValue: access.tokenValue,
        clientId: this.options.clientId,
        clientVersion: this.options.clientVersion,
      }),
    );
    return socket;
  }

  private adopt(socket: WebSocket): void {
    const { scheduler, receiver, log } = this.options;
    this.socket = socket;
    this.state = 'open';
    this.lastHeardAt = scheduler.now();
    socket.on('message', (data: Buffer) => {
      this.lastHeardAt = scheduler.now();
      receiver.receive(data);
    });
    socket.on('pong', () => {
      this.lastHeardAt = scheduler.now();
    });
    socket.on('error', (error) => log.debug(`websocket error: ${error.message}`));
    socket.on('close', (code, reason) => this.socketClosed(socket, code, reason.toString('utf8')));
    this.stopPinging = scheduler.setInterval(() => this.checkLiveness(socket), this.options.timeouts.pingIntervalMs);
    socket.ping('keepalive');
    if (this.incomingPaused) socket.pause();
    receiver.attach(this);
    this.options.events.onConnected?.();
  }

  private checkLiveness(socket: WebSocket): void {
    if (this.incomingPaused) this.lastHeardAt = this.options.scheduler.now();
    const silentFor = this.options.scheduler.now() - this.lastHeardAt;
    if (silentFor > this.options.timeouts.livenessTimeoutMs) {
      this.options.log.info(`no answer from the data channel for ${Math.round(silentFor / 1000)} s; reconnecting`);
      socket.terminate(); // 'close' follows and starts the reconnect
      return;
    }
    socket.ping('keepalive');
  }

  private socketClosed(socket: WebSocket, code: number, reason: string): void {
    if (socket !== this.socket) return;
    this.socket = undefined;
    this.stopPinging?.();
    this.options.receiver.detach();
    if (this.state === 'closed') return;
    const why = reason ? `${code} ${reason}` : `${code}`;
    if (code === 1003) {
      // MGS's answer to a missing or unknown token (docs/protocol.md §3.2): resuming will not help.
      this.fail(new SsmProxyError('access-denied', `the data channel rejected the session token (close ${why})`));
      return;
    }
    this.options.log.info(`data channel closed (${why}); resuming the session`);
    this.options.events.onReconnecting?.();
    void this.reconnect();
  }

  private async reconnect(): Promise<void> {
    const { scheduler, log } = this.options;
    const signal = this.closing.signal;
    this.state = 'reconnecting';
    const deadline = scheduler.now() + this.options.timeouts.reconnectBudgetMs;
    let delayMs = 100 + Math.random() * 100;
    let lastError = 'no attempt made';
    while (this.state === 'reconnecting') {
      try {
        const access = await abortable(this.options.resume(signal), signal);
        if (!access) {
          this.fail(new SsmProxyError('session-ended', 'the session was terminated by the service and cannot be resumed'));
          return;
        }
        log.addSecret(access.tokenValue);
        this.access = access;
        const socket = await this.dial(access, signal);
        if (this.state !== 'reconnecting') {
          socket.terminate();
          return;
        }
        this.reconnects++;
        log.info('data channel resumed');
        this.adopt(socket);
        return;
      } catch (error) {
        if (signal.aborted) return; // closed on purpose meanwhile
        if (error instanceof SsmProxyError && (error.kind === 'access-denied' || error.kind === 'config')) {
          this.fail(error);
          return;
        }
        lastError = error instanceof Error ? error.message : String(error);
        log.info(`resume failed: ${lastError}`);
      }
      if (scheduler.now() + delayMs > deadline) break;
      await sleep(scheduler, delayMs, signal);
      delayMs = Math.min(delayMs * 2, 5000);
    }
    if (this.state === 'reconnecting') {
      const budget = Math.round(this.options.timeouts.reconnectBudgetMs / 1000);
      this.fail(new SsmProxyError('network', `lost the data channel and could not resume it within ${budget} s: ${lastError}`));
    }
  }

  private fail(error: SsmProxyError): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.stopPinging?.();
    this.options.events.onFailure(error);
  }
}

/** The TCP (or TLS) socket under a ws WebSocket; ws keeps it in `_socket`. */
function rawSocketOf(socket: WebSocket): Duplex | undefined {
  return (socket as unknown as { _socket?: Duplex | null })._socket ?? undefined;
}

function sleep(scheduler: Scheduler, ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const cancel = scheduler.setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      cancel();
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
