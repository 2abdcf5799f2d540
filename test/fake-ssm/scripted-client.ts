/**
 * A small, deliberately simple data-channel client for driving the fake in unit tests. It uses
 * the project's codec, keeps sequence state across reconnects, acks in-order/early/duplicate
 * stream messages, answers the handshake, and resends unacked messages on a timer. Knobs let a
 * test switch behaviours off to observe the fake's side.
 */
import { randomUUID } from 'node:crypto';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { WebSocket } from 'ws';
import {
  decodeAcknowledgement,
  decodeChannelClosed,
  decodeFrame,
  encodeAcknowledgeFrame,
  encodeFlag,
  encodeFrame,
  encodeHandshakeResponse,
  encodeOpenDataChannelInput,
  HeaderFlag,
  MessageType,
  PayloadType,
  randomMessageId,
  STREAM_CHUNK_SIZE,
  type Frame,
} from '../../src/protocol/index.js';

export const TEST_CREDENTIALS = { accessKeyId: 'AKIDFAKESSMTEST00001', secretAccessKey: 'fake/secret+key=for-tests' };

export interface ScriptedClientOptions {
  /** Answer HandshakeRequest automatically with this ActionStatus (default 1); false = don't. */
  handshakeStatus?: number | false;
  /** Ack server stream messages (default true). */
  ack?: boolean;
  /** Resend unacked messages older than this many ms every 25 ms (default 150; 0 = never). */
  resendAfterMs?: number;
  clientVersion?: string;
}

/** SigV4 headers for the upgrade, query decoded with URLSearchParams as §3.3 prescribes. */
export async function signUpgrade(
  url: string,
  credentials = TEST_CREDENTIALS,
  region = 'us-east-1',
  queryStyle: 'form' | 'raw-plus' = 'form',
): Promise<Record<string, string>> {
  const parsed = new URL(url.replace(/^ws/, 'http'));
  const query: Record<string, string> = {};
  const rawQuery = url.split('?')[1] ?? '';
  if (queryStyle === 'form') {
    for (const [key, value] of new URLSearchParams(rawQuery)) query[key] = value;
  } else {
    // The wrong way: keep '+' literal (it will be encoded %2B), unlike the Go signers.
    for (const part of rawQuery.split('&')) {
      const equals = part.indexOf('=');
      query[part.slice(0, equals)] = decodeURIComponent(part.slice(equals + 1));
    }
  }
  const signer = new SignatureV4({ service: 'ssmmessages', region, credentials, sha256: Hash.bind(null, 'sha256') });
  const signed = await signer.sign(
    new HttpRequest({
      method: 'GET',
      protocol: 'http:',
      hostname: parsed.hostname,
      port: Number(parsed.port),
      path: parsed.pathname,
      query,
      headers: { host: parsed.host },
    }),
  );
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(signed.headers)) if (name !== 'host') headers[name] = value;
  return headers;
}

/** Opens a websocket and reports either the open socket or the HTTP status that refused it. */
export function openSocket(
  url: string,
  headers: Record<string, string>,
): Promise<{ ws: WebSocket; status?: undefined } | { ws?: undefined; status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers, perMessageDeflate: false });
    ws.once('open', () => resolve({ ws }));
    ws.once('unexpected-response', (_request, response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      response.on('error', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    ws.once('error', (error) => reject(error));
  });
}

export class ScriptedClient {
  readonly frames: Frame[] = [];
  readonly acksReceived: number[] = [];
  invalidFrames = 0;
  handshakeComplete = false;
  /** Ack the fake's stream messages (may be switched at any time). */
  acking: boolean;
  channelClosed: { output: string } | undefined;
  closed: { code: number; reason: string } | undefined;
  readonly clientId = randomUUID();
  private ws: WebSocket | undefined;
  private outSeq = 0;
  private readonly unacked = new Map<number, { frame: Buffer; lastSent: number }>();
  private expectedIn = 0;
  private readonly early = new Map<number, Frame>();
  private readonly output: Buffer[] = [];
  private outputBytes = 0;
  private readonly resendTimer: NodeJS.Timeout;

  private constructor(private readonly options: ScriptedClientOptions) {
    this.acking = options.ack !== false;
    this.resendTimer = setInterval(() => this.resend(), 25);
  }

  /** Signs, opens the socket and sends OpenDataChannelInput. */
  static async connect(streamUrl: string, token: string, options: ScriptedClientOptions = {}): Promise<ScriptedClient> {
    const client = new ScriptedClient(options);
    await client.reconnect(streamUrl, token);
    return client;
  }

  /** Same state, new socket (after ResumeSession): resend everything unacked. */
  async reconnect(streamUrl: string, token: string): Promise<void> {
    const opened = await openSocket(streamUrl, await signUpgrade(streamUrl));
    if (!opened.ws) throw new Error(`upgrade refused with HTTP ${opened.status}: ${opened.body}`);
    const ws = opened.ws;
    this.ws = ws;
    this.closed = undefined;
    ws.on('message', (data: Buffer) => this.onMessage(data));
    ws.on('close', (code, reason) => {
      if (this.ws === ws) this.closed = { code, reason: reason.toString('utf8') };
    });
    ws.send(
      encodeOpenDataChannelInput({
        requestId: randomUUID(),
        tokenValue: token,
        clientId: this.clientId,
        clientVersion: this.options.clientVersion ?? '1.2.764.0',
      }),
    );
    for (const pending of this.unacked.values()) this.sendRaw(pending.frame);
  }

  get received(): Buffer {
    return Buffer.concat(this.output);
  }

  get receivedBytes(): number {
    return this.outputBytes;
  }

  get unackedCount(): number {
    return this.unacked.size;
  }

  /** Stream messages from the fake with this PayloadType, in arrival order (may repeat). */
  framesOf(payloadType: number): Frame[] {
    return this.frames.filter((f) => f.messageType === MessageType.outputStreamData && f.payloadType === payloadType);
  }

  sendData(data: Buffer): void {
    for (let offset = 0; offset < data.length; offset += STREAM_CHUNK_SIZE) {
      this.sendStream(PayloadType.output, data.subarray(offset, offset + STREAM_CHUNK_SIZE));
    }
  }

  sendFlag(flag: number): number {
    return this.sendStream(PayloadType.flag, encodeFlag(flag));
  }

  /** Sequences and tracks one input_stream_data message; returns its sequence number. */
  sendStream(payloadType: number, payload: Buffer, options: { track?: boolean; send?: boolean } = {}): number {
    const sequenceNumber = this.outSeq++;
    const frame = this.buildStream(sequenceNumber, payloadType, payload);
    if (options.track !== false) this.unacked.set(sequenceNumber, { frame, lastSent: Date.now() });
    if (options.send !== false) this.sendRaw(frame);
    return sequenceNumber;
  }

  /** Takes the next sequence number without sending anything (for hand-made frames). */
  reserveSequence(): number {
    return this.outSeq++;
  }

  buildStream(sequenceNumber: number, payloadType: number, payload: Buffer): Buffer {
    return encodeFrame({
      messageType: MessageType.inputStreamData,
      sequenceNumber,
      flags: HeaderFlag.none,
      messageId: randomMessageId(),
      payloadType,
      payload,
    });
  }

  sendRaw(frame: Buffer | string): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(frame);
  }

  async waitFor(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  /** Drops the socket as a network fault would (no close frame); state stays for `reconnect`. */
  dropSocket(): void {
    const ws = this.ws;
    this.ws = undefined;
    ws?.terminate();
  }

  close(): void {
    clearInterval(this.resendTimer);
    this.ws?.terminate();
  }

  private onMessage(data: Buffer): void {
    const decoded = decodeFrame(data);
    if (!decoded.ok) {
      this.invalidFrames++;
      return;
    }
    const frame = decoded.value;
    this.frames.push(frame);
    switch (frame.messageType) {
      case MessageType.acknowledge: {
        const ack = decodeAcknowledgement(frame.payload);
        if (ack.ok) {
          this.acksReceived.push(ack.value.acknowledgedSequenceNumber);
          this.unacked.delete(ack.value.acknowledgedSequenceNumber);
        }
        return;
      }
      case MessageType.channelClosed:
        this.channelClosed = { output: decodeChannelClosed(frame.payload).output };
        return;
      case MessageType.outputStreamData:
        this.onStream(frame);
        return;
    }
  }

  private onStream(frame: Frame): void {
    if (this.acking) this.ack(frame);
    if (frame.sequenceNumber < this.expectedIn) return;
    if (frame.sequenceNumber > this.expectedIn) {
      this.early.set(frame.sequenceNumber, frame);
      return;
    }
    this.process(frame);
    this.expectedIn++;
    for (let next = this.early.get(this.expectedIn); next; next = this.early.get(this.expectedIn)) {
      this.early.delete(this.expectedIn);
      this.process(next);
      this.expectedIn++;
    }
  }

  private process(frame: Frame): void {
    switch (frame.payloadType) {
      case PayloadType.handshakeRequest: {
        const status = this.options.handshakeStatus ?? 1;
        if (status === false) return;
        this.sendStream(
          PayloadType.handshakeResponse,
          encodeHandshakeResponse({
            clientVersion: this.options.clientVersion ?? '1.2.764.0',
            processedClientActions: [
              { actionType: 'SessionType', actionStatus: status, actionResult: null, error: status === 1 ? '' : 'refused by test' },
            ],
            errors: null,
          }),
        );
        return;
      }
      case PayloadType.handshakeComplete:
        this.handshakeComplete = true;
        return;
      case PayloadType.output:
        // Copy: the frame's payload is a view into the websocket's buffer.
        this.output.push(Buffer.from(frame.payload));
        this.outputBytes += frame.payload.length;
        return;
    }
  }

  private ack(frame: Frame): void {
    this.sendRaw(encodeAcknowledgeFrame(frame));
  }

  private resend(): void {
    const after = this.options.resendAfterMs ?? 150;
    if (!after) return;
    const now = Date.now();
    for (const pending of this.unacked.values()) {
      if (now - pending.lastSent < after) continue;
      pending.lastSent = now;
      this.sendRaw(pending.frame);
    }
  }
}
