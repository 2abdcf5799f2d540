/**
 * MGS's client-facing websocket (docs/protocol.md §3): `GET /v1/data-channel/{sessionId}?…`
 * upgraded on the API's own HTTP server. Checks the SigV4 signature of the upgrade (§3.3), then
 * expects OpenDataChannelInput as the first frame (§3.2) and hands the socket to the session's
 * AgentSession.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { AgentSession } from './agent-session.js';
import { isShellDocument, ShellAgentSession } from './shell-agent-session.js';
import type { ResolvedFakeSsmOptions } from './options.js';
import type { ConnectionRecord, FakeSsmRecords } from './records.js';
import type { SessionStore } from './session-store.js';
import { parseAuthorization, verifySignature } from './sigv4-check.js';

const DATA_CHANNEL_PATH = /^\/v1\/data-channel\/([A-Za-z0-9_.-]+)$/;
/** A socket that never sends OpenDataChannelInput is closed after this long. */
const OPEN_FRAME_TIMEOUT_MS = 10_000;

export interface DataChannelContext {
  options: ResolvedFakeSsmOptions;
  records: FakeSsmRecords;
  store: SessionStore;
}

export class DataChannelServer {
  private readonly wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });

  constructor(private readonly context: DataChannelContext) {}

  /** The http server's 'upgrade' listener. */
  handleUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): void => {
    void this.upgrade(request, socket, head).catch(() => socket.destroy());
  };

  /** Drops every client socket (used by close()). */
  terminateAll(): void {
    for (const client of this.wss.clients) client.terminate();
    this.wss.close();
  }

  private async upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const { options, records } = this.context;
    const url = request.url ?? '/';
    const path = url.split('?')[0]!;
    const match = DATA_CHANNEL_PATH.exec(path);
    if (!match) return reject(socket, records, path, 404, 'Not Found');
    const sessionId = match[1]!;

    const authorizationPresent = typeof request.headers.authorization === 'string';
    const auth = parseAuthorization(request.headers.authorization);
    if (options.requireSigV4 || options.verifySignature) {
      if (!auth) return reject(socket, records, path, 403, 'Missing Authentication Token');
      if (auth.service !== 'ssmmessages' || auth.region !== options.region) {
        return reject(socket, records, path, 403, `Credential should be scoped to ${options.region}/ssmmessages, not ${auth.region}/${auth.service}`);
      }
    }
    let signatureOk: boolean | undefined;
    const known = options.verifySignature;
    if (known) {
      const result = verifySignature(
        { method: request.method ?? 'GET', url, rawHeaders: request.rawHeaders },
        {
          secretFor: (accessKeyId) => (accessKeyId === known.accessKeyId ? known.secretAccessKey : undefined),
          service: 'ssmmessages',
          region: options.region,
        },
      );
      signatureOk = result.ok;
      if (!result.ok) return reject(socket, records, path, 403, `The request signature we calculated does not match the signature you provided (${result.reason})`);
    }

    this.wss.handleUpgrade(request, socket, head, (ws) => {
      const record: ConnectionRecord = { sessionId, authorizationPresent, signatureOk, tokenOk: false, openFrameIssues: [] };
      records.connections.push(record);
      ws.once('close', (code, reason) => {
        record.closeCode = code;
        record.closeReason = reason.toString('utf8');
      });
      this.awaitOpenFrame(ws, sessionId, record);
    });
  }

  /**
   * First frame: OpenDataChannelInput (docs/protocol.md §3.2). What MGS is known to enforce is the
   * token: missing → close 1003 with its "does not contain token" text; a token that cannot open
   * this session (unknown here, expired, or the session is over) → 1003 as well. The other fields
   * are checked against the service model and only recorded.
   */
  private awaitOpenFrame(ws: WebSocket, sessionId: string, record: ConnectionRecord): void {
    const noToken = `Channel ${sessionId}: request to open data channel does not contain token.`;
    const timer = setTimeout(() => ws.close(1003, noToken), OPEN_FRAME_TIMEOUT_MS);
    timer.unref();
    ws.once('message', (data, isBinary) => {
      clearTimeout(timer);
      const input = readOpenFrame(data as Buffer, isBinary, record.openFrameIssues);
      record.requestId = input.RequestId;
      record.clientId = input.ClientId;
      record.clientVersion = input.ClientVersion;
      const token = input.TokenValue;
      if (!token) {
        record.tokenRejection = 'missing';
        ws.close(1003, noToken);
        return;
      }
      const entry = this.context.store.get(sessionId);
      const issuedAt = entry?.tokens.get(token);
      const rejection = !entry || issuedAt === undefined
        ? 'unknown'
        : entry.terminated
          ? 'session-ended'
          : Date.now() - issuedAt > this.context.options.tokenLifetimeMs
            ? 'expired'
            : undefined;
      if (rejection || !entry) {
        record.tokenRejection = rejection ?? 'unknown';
        // MGS's text for other bad tokens is not known; its one known text is used for all.
        ws.close(1003, noToken);
        return;
      }
      record.tokenOk = true;
      // Attach synchronously so the very next frame already reaches the session.
      const { options, records } = this.context;
      entry.agent ??= isShellDocument(entry.documentName) ? new ShellAgentSession(entry, options, records) : new AgentSession(entry, options, records);
      entry.agent.attach(ws);
    });
  }
}

type OpenFrameFields = Partial<Record<'MessageSchemaVersion' | 'RequestId' | 'TokenValue' | 'ClientId' | 'ClientVersion', string>>;

/**
 * Reads the open frame with its own JSON parse (independent of src/protocol) and notes every
 * departure from the service model: a binary frame, non-JSON, a missing or too short field.
 */
function readOpenFrame(data: Buffer, isBinary: boolean, issues: string[]): OpenFrameFields {
  if (isBinary) issues.push('sent as a binary frame, not text');
  let json: unknown;
  try {
    json = JSON.parse(data.toString('utf8'));
  } catch {
    issues.push('not JSON');
    return {};
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    issues.push('not a JSON object');
    return {};
  }
  const fields: OpenFrameFields = {};
  const minimum = { MessageSchemaVersion: 1, RequestId: 16, TokenValue: 1, ClientId: 1, ClientVersion: 1 } as const;
  for (const [name, min] of Object.entries(minimum) as [keyof OpenFrameFields, number][]) {
    const value = (json as Record<string, unknown>)[name];
    if (typeof value !== 'string') {
      issues.push(`${name} missing`);
      continue;
    }
    if (value.length < min) issues.push(`${name} shorter than ${min}`);
    fields[name] = value;
  }
  if (fields.MessageSchemaVersion !== undefined && fields.MessageSchemaVersion !== '1.0') {
    issues.push(`MessageSchemaVersion ${fields.MessageSchemaVersion}, not 1.0`);
  }
  return fields;
}

function reject(socket: Duplex, records: FakeSsmRecords, path: string, status: number, reason: string): void {
  records.rejectedUpgrades.push({ path, status, reason });
  const body = `${reason}\n`;
  const statusText = status === 404 ? 'Not Found' : 'Forbidden';
  socket.end(
    `HTTP/1.1 ${status} ${statusText}\r\nConnection: close\r\nContent-Type: text/plain\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nx-amzn-RequestId: fake\r\n\r\n${body}`,
  );
}
