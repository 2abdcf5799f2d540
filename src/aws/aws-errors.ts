import { SsmProxyError } from '../errors.js';
import { describeTlsFailure, tlsErrorCode } from '../network/network-errors.js';
import type { SsoSettings } from './sso/sso-settings.js';

export interface AwsErrorContext {
  /** What was being done, e.g. `ssm:StartSession on i-…`. */
  action: string;
  profile: string | undefined;
  /** Who signed: `profile 'P' (SSO role R in account A)`; defaults to the profile. */
  identity?: string | undefined;
  /** Set when the profile signs in through AWS SSO: the fix is then `ssm-proxy login`. */
  sso?: Pick<SsoSettings, 'profile' | 'sessionName' | 'roleName' | 'accountId'> | undefined;
}

/** The SDK's messages for a missing, expired or rejected SSO token (fromSSO, fromSso, GetRoleCredentials). */
const SSO_SIGN_IN = /(SSO session|SSO Token|sso_session|aws sso login|Session token not found or invalid|Token is expired)/i;

/** Did the SDK fail because the SSO sign-in is missing, expired or no longer accepted? */
export function isSsoSignInFailure(error: unknown): boolean {
  const err = (error ?? {}) as { name?: string; message?: string };
  return err.name === 'UnauthorizedException' || SSO_SIGN_IN.test(err.message ?? '');
}

/**
 * Turns an AWS SDK failure into one user-facing line. AWS's own message is kept where it names
 * the principal and the missing permission (the seed's AccessDenied on ssm:StartSession);
 * credentials never appear in SDK messages, and nothing else is added from the request.
 */
export function describeAwsError(error: unknown, context: AwsErrorContext): SsmProxyError {
  if (error instanceof SsmProxyError) return error;
  const err = (error ?? {}) as { name?: string; message?: string; code?: string; $metadata?: { httpStatusCode?: number } };
  const name = err.name ?? '';
  const message = (err.message ?? String(error)).replace(/\s+/g, ' ').trim();
  const profile = context.profile ? `profile '${context.profile}'` : 'the default credentials';
  const identity = context.identity ?? profile;
  const sso = context.sso;
  const login = sso?.profile
    ? `ssm-proxy login --profile ${sso.profile}`
    : sso?.sessionName
      ? `ssm-proxy login --sso-session ${sso.sessionName}`
      : context.profile
        ? `aws sso login --profile ${context.profile}`
        : 'aws sso login';

  const tlsCode = tlsErrorCode(error);
  if (tlsCode) {
    const failure = describeTlsFailure(tlsCode, 'the AWS endpoint');
    return new SsmProxyError(failure.kind, `${context.action} failed: ${failure.message}`);
  }
  // The proxy's refusal, wrapped by the SDK (CredentialsProviderError keeps only the message).
  const proxyLine = /\b(the proxy \S+ \(from \S+\) refused CONNECT|cannot reach the proxy \S+ \(from \S+\)).*$/.exec(message);
  if (proxyLine) return new SsmProxyError('network', `${context.action} failed: ${proxyLine[0]}`);
  if (isSsoSignInFailure(error) && (sso || /sso/i.test(message))) {
    return new SsmProxyError('config', `the AWS SSO sign-in for ${profile} has expired or is missing; run '${login}' and try again`);
  }
  if (sso && /(ForbiddenException|No access)/i.test(`${name} ${message}`)) {
    const role = sso.roleName && sso.accountId ? `role ${sso.roleName} in account ${sso.accountId}` : 'its role';
    return new SsmProxyError(
      'access-denied',
      `AWS SSO refused credentials for ${profile}: your SSO user is not assigned ${role}; fix sso_role_name / sso_account_id or ask for the assignment`,
    );
  }
  if (name === 'CredentialsProviderError' || /Could not load credentials/i.test(message)) {
    return new SsmProxyError('config', `no AWS credentials for ${profile}: ${message}`);
  }
  if (name === 'AccessDeniedException' || name === 'AccessDenied' || err.$metadata?.httpStatusCode === 403) {
    const permission = /not authorized to perform: (\S+)/.exec(message)?.[1];
    const fix = permission
      ? `; ask your AWS administrator to allow ${permission} for that principal, or use a --profile that has it`
      : '';
    return new SsmProxyError('access-denied', `${context.action} was denied for ${identity}: ${message}${fix}`);
  }
  if (name === 'UnrecognizedClientException' || name === 'InvalidSignatureException' || name === 'ExpiredTokenException') {
    return new SsmProxyError('config', `AWS rejected the credentials of ${identity} (${name}): ${message}`);
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
  const networkCode = err.code ?? (/(ECONNREFUSED|ENOTFOUND|ETIMEDOUT|ECONNRESET|EAI_AGAIN)/.exec(message)?.[1]);
  if (networkCode || name === 'TimeoutError' || name === 'RequestTimeout') {
    return new SsmProxyError('network', `${context.action} could not reach AWS: ${networkCode ?? name} ${message}`.trim());
  }
  return new SsmProxyError('internal', `${context.action} failed${name ? ` (${name})` : ''}: ${message}`);
}
