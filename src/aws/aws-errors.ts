import { SsmProxyError } from '../errors.js';

/**
 * Turns an AWS SDK failure into one user-facing line. AWS's own message is kept where it names
 * the principal and the missing permission (the seed's AccessDenied on ssm:StartSession);
 * credentials never appear in SDK messages, and nothing else is added from the request.
 */
export function describeAwsError(error: unknown, context: { action: string; profile: string | undefined }): SsmProxyError {
  if (error instanceof SsmProxyError) return error;
  const err = (error ?? {}) as { name?: string; message?: string; code?: string; $metadata?: { httpStatusCode?: number } };
  const name = err.name ?? '';
  const message = (err.message ?? String(error)).replace(/\s+/g, ' ').trim();
  const profile = context.profile ? `profile '${context.profile}'` : 'the default credentials';
  const login = context.profile ? `aws sso login --profile ${context.profile}` : 'aws sso login';

  if (/sso/i.test(message) && /(expired|invalid|refresh|token)/i.test(message)) {
    return new SsmProxyError('config', `the SSO sign-in for ${profile} has expired or is missing; run '${login}' and try again`);
  }
  if (name === 'CredentialsProviderError' || /Could not load credentials/i.test(message)) {
    return new SsmProxyError('config', `no AWS credentials for ${profile}: ${message}`);
  }
  if (name === 'AccessDeniedException' || name === 'AccessDenied' || err.$metadata?.httpStatusCode === 403) {
    return new SsmProxyError('access-denied', `${context.action} was denied (${profile}): ${message}`);
  }
  if (name === 'UnrecognizedClientException' || name === 'InvalidSignatureException' || name === 'ExpiredTokenException') {
    return new SsmProxyError('config', `AWS rejected the credentials of ${profile} (${name}): ${message}`);
  }
  if (name === 'TargetNotConnected') {
    return new SsmProxyError('network', `${context.action} failed: ${message} (is the SSM agent running and online?)`);
  }
  if (name === 'InvalidDocument' || name === 'InvalidDocumentParameters' || name === 'InvalidTarget' || name === 'DoesNotExistException') {
    return new SsmProxyError('config', `${context.action} failed (${name}): ${message}`);
  }
  const networkCode = err.code ?? (/(ECONNREFUSED|ENOTFOUND|ETIMEDOUT|ECONNRESET|EAI_AGAIN)/.exec(message)?.[1]);
  if (networkCode || name === 'TimeoutError' || name === 'RequestTimeout') {
    return new SsmProxyError('network', `${context.action} could not reach AWS: ${networkCode ?? name} ${message}`.trim());
  }
  return new SsmProxyError('internal', `${context.action} failed${name ? ` (${name})` : ''}: ${message}`);
}
