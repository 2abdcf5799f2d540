/**
 * Errors a user can see. Every failure that reaches the CLI is an SsmProxyError with a kind;
 * the kind alone decides the exit code (see EXIT_CODES), so the mapping lives in one place.
 * Messages are one line: what failed, why, and what to do. They never carry secrets.
 */

export type ErrorKind =
  | 'usage' // bad flags or arguments
  | 'config' // profile, region, credentials, ~/.ssh/config or ~/.aws/config problems
  | 'access-denied' // AWS said no (StartSession, ResumeSession, KMS ...)
  | 'network' // could not reach an endpoint, socket died and could not be resumed
  | 'protocol' // the peer broke the data-channel contract
  | 'timeout' // a bounded wait ran out
  | 'session-ended' // the service ended the session with an error (channel_closed Output)
  | 'io' // local file system problems (unwritable path, ...)
  | 'internal'; // a bug in ssm-proxy

/** Documented in README.md ("Exit codes"); keep both in step. */
export const EXIT_CODES: Readonly<Record<ErrorKind, number>> = {
  internal: 1,
  usage: 2,
  config: 3,
  'access-denied': 4,
  network: 5,
  protocol: 6,
  timeout: 7,
  'session-ended': 8,
  io: 9,
};

/** 128 + signal number, as shells report a process ended by a signal. */
export const SIGNAL_EXIT_CODES: Readonly<Record<'SIGHUP' | 'SIGINT' | 'SIGTERM', number>> = {
  SIGHUP: 129,
  SIGINT: 130,
  SIGTERM: 143,
};

export class SsmProxyError extends Error {
  readonly kind: ErrorKind;

  constructor(kind: ErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SsmProxyError';
    this.kind = kind;
  }
}

export function exitCodeFor(error: unknown): number {
  return error instanceof SsmProxyError ? EXIT_CODES[error.kind] : EXIT_CODES.internal;
}

/** A one-line description of any thrown value, for the last line of defence in the CLI. */
export function oneLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/\s*\n\s*/g, ' ').trim() || 'unknown error';
}
