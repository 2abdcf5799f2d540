import {
  ActionStatus,
  readSessionTypeParameters,
  type HandshakeResponse,
  type ProcessedClientAction,
  type RequestedClientAction,
} from '../protocol/index.js';
import type { ActionAnswer } from './session-kind.js';

/**
 * Answers a SessionType action for a kind that speaks `sessionTypes` (docs/protocol.md §8.3). `refusal` says, for
 * the user, why another session type cannot be served. `properties` checks the document's
 * Properties (e.g. a forward kind requires type LocalPortForwarding) and returns why they do not
 * fit, or undefined.
 */
export function answerSessionType(
  action: RequestedClientAction,
  sessionTypes: readonly string[],
  refusal: (sessionType: string) => string,
  properties?: (properties: Record<string, unknown>) => string | undefined,
): ActionAnswer {
  const parameters = readSessionTypeParameters(action.actionParameters);
  const name = parameters?.sessionType ?? 'unknown';
  if (!parameters || !sessionTypes.includes(parameters.sessionType)) {
    return { status: 'failed', error: `unsupported session type ${name}`, refusal: refusal(name) };
  }
  const misfit = properties?.(parameters.properties);
  if (misfit) return { status: 'failed', error: misfit, refusal: `the session document does not fit: ${misfit}` };
  return { status: 'success' };
}

/** Refuses an action the kind does not implement: the agent then cancels the session (docs/protocol.md §8.3). */
export function refuseAction(action: RequestedClientAction, kind: string): ActionAnswer {
  return {
    status: 'unsupported',
    error: `Unsupported action ${action.actionType}`,
    refusal: `the agent requested ${action.actionType}, which ssm-proxy does not support for ${kind} sessions`,
  };
}

/**
 * The HandshakeResponse for the kind's answers, one per requested action in order (docs/protocol.md §8.3), and
 * the first refusal: any status other than success makes the agent cancel the session.
 */
export function buildHandshakeResponse(
  actions: readonly RequestedClientAction[],
  answers: readonly ActionAnswer[],
  clientVersion: string,
): { response: HandshakeResponse; refusal: string | undefined } {
  const errors: string[] = [];
  let refusal: string | undefined;
  const processedClientActions: ProcessedClientAction[] = actions.map((action, index) => {
    const answer = answers[index]!;
    if (answer.status === 'success') {
      return { actionType: action.actionType, actionStatus: ActionStatus.success, actionResult: answer.result ?? null, error: '' };
    }
    refusal ??= answer.refusal;
    errors.push(answer.refusal);
    return {
      actionType: action.actionType,
      actionStatus: answer.status === 'failed' ? ActionStatus.failed : ActionStatus.unsupported,
      actionResult: null,
      error: answer.error,
    };
  });
  return { response: { clientVersion, processedClientActions, errors: errors.length ? errors : null }, refusal };
}
