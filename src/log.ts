import { closeSync, openSync, writeSync } from 'node:fs';
import { SsmProxyError } from './errors.js';
import { printable } from './printable.js';

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
  /** The log file could not be written (ENOSPC, EIO …): logging stopped; the command should say so. */
  failure(): SsmProxyError | undefined;
  close(): void;
}

export interface LoggerOptions {
  verbosity: number;
  /** Append to this file instead of stderr. */
  file?: string;
  /** For tests. */
  write?: (line: string) => void;
}

/**
 * A log file that cannot be opened is an `io` error at once. One that fails later (a full disk)
 * stops the log quietly — the session matters more than its log — and `failure()` says why;
 * with -v the first line is written at once, so a file that can never be written fails up front.
 */
export function createLogger(options: LoggerOptions): Logger {
  const secrets = new Set<string>();
  let fd: number | undefined;
  let failed: SsmProxyError | undefined;
  const file = options.file;
  if (file) {
    try {
      fd = openSync(file, 'a', 0o600);
    } catch (error) {
      throw ioError(`cannot open the log file ${printable(file)}`, error);
    }
  }
  const sink =
    options.write ??
    ((line: string) => {
      if (fd === undefined || failed) {
        if (!file) process.stderr.write(line);
        return;
      }
      try {
        writeSync(fd, `${new Date().toISOString()} ${line}`);
      } catch (error) {
        failed = ioError(`cannot write the log file ${printable(file ?? '')}`, error);
      }
    });
  const mask = (text: string) => {
    let masked = text;
    for (const secret of secrets) masked = masked.split(secret).join('***');
    return masked;
  };
  const emit = (minimum: number, label: string) => (message: string) => {
    // Log lines quote services, files and argv: no control character reaches the terminal.
    if (options.verbosity >= minimum) sink(`ssm-proxy: ${label}${printable(mask(message))}\n`);
  };
  if (file && options.verbosity >= 1) {
    sink(`ssm-proxy: log opened by process ${process.pid}\n`);
    if (failed) {
      closeQuietly(fd);
      throw failed;
    }
  }
  return {
    verbosity: options.verbosity,
    error: emit(0, ''),
    warn: emit(0, 'warning: '),
    info: emit(1, ''),
    debug: emit(2, ''),
    addSecret(secret) {
      if (secret && secret.length >= 8) secrets.add(secret);
    },
    failure: () => failed,
    close() {
      closeQuietly(fd);
      fd = undefined;
    },
  };
}

function closeQuietly(fd: number | undefined): void {
  try {
    if (fd !== undefined) closeSync(fd);
  } catch {
    // nothing left to do with a log that cannot be closed
  }
}

/** `cannot write the log file F: no space left on device; …` (io, exit 9). */
function ioError(what: string, error: unknown): SsmProxyError {
  const code = (error as NodeJS.ErrnoException).code;
  const why: Record<string, string> = {
    ENOSPC: 'no space left on device',
    EACCES: 'permission denied',
    EPERM: 'permission denied',
    EROFS: 'read-only file system',
    EISDIR: 'it is a directory',
    ENOENT: 'its directory does not exist',
    EDQUOT: 'disk quota exceeded',
  };
  return new SsmProxyError('io', `${what}: ${(code && why[code]) ?? code ?? String(error)}; choose another --log-file`, { cause: error });
}
