import { SsmProxyError } from '../errors.js';
import type { HttpTimeouts } from '../network/network-agents.js';
import { describeTlsFailure, tlsErrorCode } from '../network/network-errors.js';
import { endpointOfError } from './aws-call.js';
import { loginCommand, type SsoSettings } from './sso/sso-settings.js';

export interface AwsErrorContext {
  /** What was being done, e.g. `ssm:StartSession on i-…`. */
  action: string;
  /** Whose endpoint: `SSM`, `STS`, `SSO portal`, `SSO-OIDC`. */
  service?: string;
  /** Who signed, for messages: `profile 'P' (SSO role R in account A)`, `the default credentials`. */
  who: string;
  /** Set when the profile signs in through AWS SSO: the fix is then `ssm-proxy login`. */
  sso?: Pick<SsoSettings, 'profile' | 'sessionName' | 'roleName' | 'accountId'> | undefined;
  /** The timeouts in effect, for the words of a timeout. */
  timeouts?: HttpTimeouts | undefined;
}

/** The SDK's messages for a missing, expired or rejected SSO token (fromSSO, fromSso, GetRoleCredentials). */
const SSO_SIGN_IN = /(SSO session|SSO Token|sso_session|aws sso login|Session token not found or invalid|Token is expired)/i;
const NETWORK_CODES = /\b(ECONNREFUSED|ENOTFOUND|ETIMEDOUT|ECONNRESET|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|EPIPE|ECONNABORTED|EPROTO|ERR_SOCKET_CONNECTION_TIMEOUT)\b/;
const THROTTLING = new Set([
  'ThrottlingException', 'Throttling', 'ThrottledException', 'TooManyRequestsException', 'RequestLimitExceeded',
  'RequestThrottled', 'RequestThrottledException', 'SlowDown', 'ProvisionedThroughputExceededException', 'LimitExceededException',
]);
const SERVICE_FAULT = new Set(['InternalServerError', 'InternalServerException', 'InternalFailure', 'InternalError', 'ServiceUnavailable', 'ServiceUnavailableException', 'ServiceFailure']);

/** Did the SDK fail because the SSO sign-in is missing, expired or no longer accepted? */
export function isSsoSignInFailure(error: unknown): boolean {
  const err = (error ?? {}) as { name?: string; message?: string };
  return err.name === 'UnauthorizedException' || SSO_SIGN_IN.test(err.message ?? '');
}

interface SdkError {
  name?: string;
  message?: string;
  code?: string;
  cause?: unknown;
  $metadata?: { httpStatusCode?: number; attempts?: number };
  $response?: { statusCode?: number; headers?: Record<string, string | undefined> };
}

/**
 * The failure of a request that reached no AWS answer, or an answer that is not AWS's (an HTML
 * error page, a redirect, invalid JSON, 5xx, throttling): one line in words a user understands,
 * naming the endpoint, network class. Undefined when the error is something else.
 */
export function describeTransportFailure(error: unknown, context: Pick<AwsErrorContext, 'action' | 'service' | 'timeouts'>): SsmProxyError | undefined {
  const err = (error ?? {}) as SdkError;
  const name = err.name ?? '';
  const message = oneLine(err.message ?? String(error));
  const endpoint = endpointOfError(error);
  const where = `${context.service ? `the ${context.service} endpoint` : 'the AWS endpoint'}${endpoint ? ` ${endpoint}` : ''}`;
  const fail = (text: string) => new SsmProxyError('network', `${context.action} failed: ${text}`, { cause: error });

  const tlsCode = tlsErrorCode(error);
  if (tlsCode) return fail(describeTlsFailure(tlsCode, where).message);
  // The proxy's refusal (network-agents.ts), possibly wrapped by the SDK (which keeps only the message).
  const proxyLine = /\b(the proxy \S+ \(from \S+\) refused CONNECT|cannot reach the proxy \S+ \(from \S+\)).*$/.exec(message);
  if (proxyLine) return fail(proxyLine[0]);
  if (err.cause instanceof SsmProxyError && err.cause.kind === 'network') return fail(err.cause.message);

  const seconds = (ms: number | undefined) => (ms === undefined ? '' : ` within ${ms / 1000} s`);
  const raise = '; check the network, the proxy (HTTPS_PROXY, NO_PROXY) and the endpoint, or allow more time with --connect-timeout';
  if (/did not establish a connection/.test(message)) {
    const ms = /timeout of (\d+) ms/.exec(message)?.[1];
    return fail(`${where} did not accept a connection${seconds(ms ? Number(ms) : context.timeouts?.connectMs)}${raise}`);
  }
  // The handler names ECONNRESET / EPIPE "TimeoutError" too: a timeout is known by its message.
  const timedOut = /exceeded the configured \d+ ms requestTimeout|socket timed out|no answer within/.test(message);
  const code = (err.code && NETWORK_CODES.test(err.code) ? err.code : undefined) ?? NETWORK_CODES.exec(message)?.[1];
  if (code && !timedOut) return fail(`cannot reach ${where} (${code})${raise.replace(', or allow more time with --connect-timeout', '')}`);
  if (timedOut || name === 'TimeoutError' || name === 'RequestTimeout') {
    const within = /no answer within ([\d.]+) s/.exec(message)?.[1] ?? /configured (\d+) ms requestTimeout/.exec(message)?.[1];
    const ms = within === undefined ? context.timeouts?.requestMs : message.includes('no answer within') ? Number(within) * 1000 : Number(within);
    return fail(`${where} did not answer${seconds(ms)}${raise}`);
  }

  const status = err.$response?.statusCode ?? err.$metadata?.httpStatusCode;
  const attempts = err.$metadata?.attempts && err.$metadata.attempts > 1 ? ` after ${err.$metadata.attempts} tries` : '';
  if (status !== undefined && status >= 300 && status < 400) {
    return fail(`${where} answered HTTP ${status} (a redirect), which an AWS endpoint never does; check --endpoint-url / AWS_ENDPOINT_URL_* and the proxy`);
  }
  if (THROTTLING.has(name) || status === 429) {
    return fail(`${where} throttled the request (${name || `HTTP ${status}`}${attempts}); wait a moment and try again`);
  }
  if (SERVICE_FAULT.has(name) || (status !== undefined && status >= 500)) {
    const what = SERVICE_FAULT.has(name) ? ` (${name})` : '';
    return fail(`${where} answered HTTP ${status ?? 500}${what}${attempts}: the service is having trouble; try again`);
  }
  if (/Deserialization error/.test(message)) {
    const type = err.$response?.headers?.['content-type'];
    return fail(
      `${where} answered${status ? ` HTTP ${status}` : ''} with something that is not an AWS answer${type ? ` (${oneLine(type).slice(0, 60)})` : ''}${attempts}; ` +
        `try again later; if it persists, check --endpoint-url / AWS_ENDPOINT_URL_* and the proxy`,
    );
  }
  // The SDK names an answer with no AWS error type "UnknownError", or (an empty body) "Unknown".
  if ((name === 'UnknownError' || name === 'Unknown') && status !== undefined) {
    return fail(`${where} answered HTTP ${status} with no AWS error in it; check --endpoint-url / AWS_ENDPOINT_URL_* and the proxy`);
  }
  return undefined;
}

/**
 * Turns an AWS SDK failure into one user-facing line. AWS's own message is kept where it names
 * the principal and the missing permission (AccessDenied on ssm:StartSession); credentials
 * never appear in SDK messages, and nothing else is added from the request.
 */
export function describeAwsError(error: unknown, context: AwsErrorContext): SsmProxyError {
  if (error instanceof SsmProxyError) return error;
  const transport = describeTransportFailure(error, context);
  if (transport) return transport;
  const err = (error ?? {}) as SdkError;
  const name = err.name ?? '';
  const message = oneLine(err.message ?? String(error));
  const sso = context.sso;
  const login = sso ? loginCommand(sso) : 'aws sso login';

  if (isSsoSignInFailure(error) && (sso || /sso/i.test(message))) {
    return new SsmProxyError('config', `the AWS SSO sign-in for ${context.who} has expired or is missing; run '${login}' and try again`);
  }
  if (sso && /(ForbiddenException|No access)/i.test(`${name} ${message}`)) {
    const role = sso.roleName && sso.accountId ? `role ${sso.roleName} in account ${sso.accountId}` : 'its role';
    return new SsmProxyError(
      'access-denied',
      `AWS SSO refused credentials for ${context.who}: your SSO user is not assigned ${role}; fix sso_role_name / sso_account_id or ask for the assignment`,
    );
  }
  if (name === 'CredentialsProviderError' || /Could not load credentials/i.test(message)) {
    return new SsmProxyError('config', `no AWS credentials for ${context.who}: ${message}`);
  }
  if (name === 'AccessDeniedException' || name === 'AccessDenied' || err.$metadata?.httpStatusCode === 403) {
    const permission = /not authorized to perform: (\S+)/.exec(message)?.[1];
    const fix = permission
      ? `; ask your AWS administrator to allow ${permission} for that principal, or use a --profile that has it`
      : '';
    return new SsmProxyError('access-denied', `${context.action} was denied for ${context.who}: ${message}${fix}`);
  }
  if (name === 'UnrecognizedClientException' || name === 'InvalidSignatureException' || name === 'ExpiredTokenException' || name === 'InvalidClientTokenId') {
    // SSO role credentials may come from the shared cache; a new sign-in replaces them.
    const fix = sso?.profile ? `; run 'ssm-proxy login --force --profile ${sso.profile}' and try again` : '';
    return new SsmProxyError('config', `AWS rejected the credentials of ${context.who} (${name}): ${message}${fix}`);
  }
  if (name === 'TargetNotConnected') {
    return new SsmProxyError('network', `${context.action} failed: ${message} (the instance is offline or its SSM agent is not connected; check it is running and registered in this region)`);
  }
  if (name === 'InvalidTarget' || name === 'DoesNotExistException') {
    return new SsmProxyError('config', `${context.action} failed (${name}): ${message} (check the instance id and --region)`);
  }
  if (name === 'InvalidDocument' || name === 'InvalidDocumentParameters') {
    return new SsmProxyError('config', `${context.action} failed (${name}): ${message}`);
  }
  return new SsmProxyError('internal', `${context.action} failed${name ? ` (${name})` : ''}: ${message}`);
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
