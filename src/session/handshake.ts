import {
  ActionStatus,
  readSessionTypeParameters,
  SessionTypeName,
  type HandshakeRequest,
  type HandshakeResponse,
  type ProcessedClientAction,
  type RequestedClientAction,
} from '../protocol/index.js';
import type { ActionAnswer } from './session-kind.js';

export interface HandshakeAnswer {
  response: HandshakeResponse;
  /** Why the session cannot go on, when an action had to be refused. */
  refusal: string | undefined;
  properties: Record<string, unknown>;
}

/**
 * Answers a HandshakeRequest (§8.3). Only Port sessions are ours; KMS encryption is never
 * requested for Port sessions (§9), so it is refused here like any action we cannot honour:
 * the agent then cancels the session and we say why.
 */
export function answerHandshake(request: HandshakeRequest, clientVersion: string): HandshakeAnswer {
  let refusal: string | undefined;
  let properties: Record<string, unknown> = {};
  const processed: ProcessedClientAction[] = request.requestedClientActions.map((action) => {
    if (action.actionType === 'SessionType') {
      const parameters = readSessionTypeParameters(action.actionParameters);
      if (parameters?.sessionType === SessionTypeName.port) {
        properties = parameters.properties;
        return { actionType: action.actionType, actionStatus: ActionStatus.success, actionResult: null, error: '' };
      }
      const name = parameters?.sessionType ?? 'unknown';
      refusal ??= `the session document starts a ${name} session; ssm-proxy only speaks Port sessions (use AWS-StartSSHSession)`;
      return { actionType: action.actionType, actionStatus: ActionStatus.failed, actionResult: null, error: `unsupported session type ${name}` };
    }
    refusal ??= `the agent requested ${action.actionType}, which ssm-proxy does not support for port sessions`;
    return {
      actionType: action.actionType,
      actionStatus: ActionStatus.unsupported,
      actionResult: null,
      error: `Unsupported action ${action.actionType}`,
    };
  });
  return {
    response: { clientVersion, processedClientActions: processed, errors: refusal ? [refusal] : null },
    refusal,
    properties,
  };
}

/**
 * Answers a SessionType action for a kind that speaks `sessionTypes` (§8.3). `properties` check
 * the document's Properties (e.g. a forward kind requires type LocalPortForwarding); it returns
 * why they do not fit, or undefined.
 */
export function answerSessionType(
  action: RequestedClientAction,
  sessionTypes: readonly string[],
  describe: { kind: string; hint: string },
  properties?: (properties: Record<string, unknown>) => string | undefined,
): ActionAnswer {
  const parameters = readSessionTypeParameters(action.actionParameters);
  const name = parameters?.sessionType ?? 'unknown';
  if (!parameters || !sessionTypes.includes(parameters.sessionType)) {
    return {
      status: 'failed',
      error: `unsupported session type ${name}`,
      refusal: `the session document starts a ${name} session; ${describe.kind} needs ${sessionTypes.join(' or ')} (${describe.hint})`,
    };
  }
  const misfit = properties?.(parameters.properties);
  if (misfit) return { status: 'failed', error: misfit, refusal: `the session document does not fit ${describe.kind}: ${misfit}` };
  return { status: 'success' };
}

/** Refuses an action the kind does not implement: the agent then cancels the session (§8.3). */
export function refuseAction(action: RequestedClientAction, kind: string): ActionAnswer {
  return {
    status: 'unsupported',
    error: `Unsupported action ${action.actionType}`,
    refusal: `the agent requested ${action.actionType}, which ssm-proxy does not support for ${kind} sessions`,
  };
}
