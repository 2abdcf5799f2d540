import { exitCodeFor, oneLine, SsmProxyError } from '../errors.js';
import { printable } from '../printable.js';

/**
 * Runs a command handler and turns its outcome into an exit code. The only place (with main.ts)
 * that decides how the process ends: errors become one stderr line, never a stack trace.
 * A handler returns the exit code it wants (0 when it returns nothing).
 */
export async function runCommand(handler: () => Promise<number | void>): Promise<void> {
  let code: number;
  try {
    code = (await handler()) ?? 0;
  } catch (error) {
    const prefix = error instanceof SsmProxyError ? '' : 'internal error: ';
    // Every error line passes here: text from argv, files or services cannot drive the terminal.
    process.stderr.write(`ssm-proxy: ${prefix}${printable(oneLine(error))}\n`);
    if (process.env.SSM_PROXY_DEBUG && error instanceof Error && error.stack) {
      process.stderr.write(`${error.stack}\n`);
    }
    code = exitCodeFor(error);
  }
  process.exitCode = code;
}
