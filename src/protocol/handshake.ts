import { parseJsonObject } from './acknowledge.js';
import { ok, protocolError, type Result } from './protocol-error.js';

/** Handshake payloads (docs/protocol.md §8.3). All compact JSON in Go's field order. */

export interface RequestedClientAction {
  actionType: string;
  actionParameters: unknown;
}

export interface HandshakeRequest {
  agentVersion: string;
  requestedClientActions: RequestedClientAction[];
}

export interface ProcessedClientAction {
  actionType: string;
  actionStatus: number;
  actionResult: unknown;
  error: string;
}

export interface HandshakeResponse {
  clientVersion: string;
  processedClientActions: ProcessedClientAction[];
  errors: string[] | null;
}

export interface HandshakeComplete {
  /** Go time.Duration: nanoseconds (docs/protocol.md pitfall 14). */
  handshakeTimeToCompleteNs: number;
  customerMessage: string;
}

export interface SessionTypeParameters {
  sessionType: string;
  properties: Record<string, unknown>;
}

export function decodeHandshakeRequest(payload: Buffer): Result<HandshakeRequest> {
  const json = parseJsonObject(payload);
  if (!json) return protocolError('BAD_PAYLOAD', 'HandshakeRequest is not a JSON object');
  const actions = json.RequestedClientActions;
  if (!Array.isArray(actions)) return protocolError('BAD_PAYLOAD', 'HandshakeRequest has no RequestedClientActions list');
  const requestedClientActions: RequestedClientAction[] = [];
  for (const action of actions) {
    if (action === null || typeof action !== 'object' || typeof action.ActionType !== 'string') {
      return protocolError('BAD_PAYLOAD', 'HandshakeRequest has an action without ActionType');
    }
    requestedClientActions.push({ actionType: action.ActionType, actionParameters: action.ActionParameters });
  }
  return ok({
    agentVersion: typeof json.AgentVersion === 'string' ? json.AgentVersion : '',
    requestedClientActions,
  });
}

/** Reads a SessionType action's parameters; undefined when they are not the expected shape. */
export function readSessionTypeParameters(parameters: unknown): SessionTypeParameters | undefined {
  if (parameters === null || typeof parameters !== 'object') return undefined;
  const { SessionType, Properties } = parameters as Record<string, unknown>;
  if (typeof SessionType !== 'string') return undefined;
  const properties =
    Properties !== null && typeof Properties === 'object' && !Array.isArray(Properties)
      ? (Properties as Record<string, unknown>)
      : {};
  return { sessionType: SessionType, properties };
}

export function encodeHandshakeResponse(response: HandshakeResponse): Buffer {
  return Buffer.from(
    JSON.stringify({
      ClientVersion: response.clientVersion,
      ProcessedClientActions: response.processedClientActions.map((action) => ({
        ActionType: action.actionType,
        ActionStatus: action.actionStatus,
        ActionResult: action.actionResult ?? null,
        Error: action.error,
      })),
      Errors: response.errors && response.errors.length > 0 ? response.errors : null,
    }),
    'utf8',
  );
}

/** Parses a HandshakeResponse; used by the fake agent in tests and kept beside its encoder. */
export function decodeHandshakeResponse(payload: Buffer): Result<HandshakeResponse> {
  const json = parseJsonObject(payload);
  if (!json || typeof json.ClientVersion !== 'string' || !Array.isArray(json.ProcessedClientActions)) {
    return protocolError('BAD_PAYLOAD', 'HandshakeResponse is not the expected JSON object');
  }
  return ok({
    clientVersion: json.ClientVersion,
    processedClientActions: json.ProcessedClientActions.map((action: Record<string, unknown>) => ({
      actionType: String(action?.ActionType ?? ''),
      actionStatus: typeof action?.ActionStatus === 'number' ? action.ActionStatus : 0,
      actionResult: action?.ActionResult ?? null,
      error: typeof action?.Error === 'string' ? action.Error : '',
    })),
    errors: Array.isArray(json.Errors) ? json.Errors.map(String) : null,
  });
}

export function encodeHandshakeRequest(request: HandshakeRequest): Buffer {
  return Buffer.from(
    JSON.stringify({
      AgentVersion: request.agentVersion,
      RequestedClientActions: request.requestedClientActions.map((action) => ({
        ActionType: action.actionType,
        ActionParameters: action.actionParameters,
      })),
    }),
    'utf8',
  );
}

export function decodeHandshakeComplete(payload: Buffer): Result<HandshakeComplete> {
  const json = parseJsonObject(payload);
  if (!json) return protocolError('BAD_PAYLOAD', 'HandshakeComplete is not a JSON object');
  return ok({
    handshakeTimeToCompleteNs: typeof json.HandshakeTimeToComplete === 'number' ? json.HandshakeTimeToComplete : 0,
    customerMessage: typeof json.CustomerMessage === 'string' ? json.CustomerMessage : '',
  });
}

export function encodeHandshakeComplete(complete: HandshakeComplete): Buffer {
  return Buffer.from(
    JSON.stringify({
      HandshakeTimeToComplete: complete.handshakeTimeToCompleteNs,
      CustomerMessage: complete.customerMessage,
    }),
    'utf8',
  );
}

