import { closeSync, openSync, writeSync } from 'node:fs';

/**
 * Diagnostics for humans. Never writes to stdout: on the connect path stdout is the SSH stream.
 * Level by -v count: 0 warnings and errors, 1 progress, 2 protocol detail.
 * Secrets registered with `addSecret` are masked in every line, a safety net behind the rule
 * that secrets are never passed to the logger at all.
 */
export interface Logger {
  readonly verbosity: number;
  error(message: string): void;
  warn(message: string): void;
  info(message: string): void;
  debug(message: string): void;
  addSecret(secret: string | undefined): void;
  close(): void;
}

export interface LoggerOptions {
  verbosity: number;
  /** Append to this file instead of stderr. */
  file?: string;
  /** For tests. */
  write?: (line: string) => void;
}

export function createLogger(options: LoggerOptions): Logger {
  const secrets = new Set<string>();
  let fd: number | undefined;
  if (options.file) {
    fd = openSync(options.file, 'a', 0o600);
  }
  const sink =
    options.write ??
    ((line: string) => {
      if (fd !== undefined) writeSync(fd, `${new Date().toISOString()} ${line}`);
      else process.stderr.write(line);
    });
  const mask = (text: string) => {
    let masked = text;
    for (const secret of secrets) masked = masked.split(secret).join('***');
    return masked;
  };
  const emit = (minimum: number, label: string) => (message: string) => {
    if (options.verbosity >= minimum) sink(`ssm-proxy: ${label}${mask(message)}\n`);
  };
  return {
    verbosity: options.verbosity,
    error: emit(0, ''),
    warn: emit(0, 'warning: '),
    info: emit(1, ''),
    debug: emit(2, ''),
    addSecret(secret) {
      if (secret && secret.length >= 8) secrets.add(secret);
    },
    close() {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    },
  };
}
