import { EXIT_CODES, SsmProxyError, type ErrorKind } from '../errors.js';
import { printable } from '../printable.js';

/** One line of the doctor's report. `fix` is what to do about a failure. */
export interface CheckResult {
  status: 'ok' | 'fail' | 'skip';
  label: string;
  detail: string;
  fix?: string;
  /** The failure's kind: decides the exit code when it is the first failure. */
  kind?: ErrorKind;
}

export function passed(label: string, detail: string): CheckResult {
  return { status: 'ok', label, detail };
}

export function skipped(label: string, detail: string): CheckResult {
  return { status: 'skip', label, detail };
}

/**
 * A failure from an error. House error messages read "what failed …; what to do": the part after
 * the last '; ' becomes the fix unless one is given.
 */
export function failed(label: string, error: unknown, fix?: string): CheckResult {
  const kind: ErrorKind = error instanceof SsmProxyError ? error.kind : 'internal';
  const message = (error instanceof Error ? error.message : String(error)).replace(/\s*\n\s*/g, ' ').trim();
  if (fix !== undefined) return { status: 'fail', label, detail: message, fix, kind };
  const split = message.lastIndexOf('; ');
  if (split === -1) return { status: 'fail', label, detail: message, kind };
  return { status: 'fail', label, detail: message.slice(0, split), fix: message.slice(split + 2), kind };
}

const MARK = { ok: '✔', fail: '✘', skip: '–' } as const;

/** `✔ label: detail`, `✘ label: detail — fix`, `– label: detail` (not checked). */
export function formatLine(result: CheckResult): string {
  const fix = result.status === 'fail' && result.fix ? ` — ${result.fix}` : '';
  // Details quote files, argv and services: no control character reaches the terminal.
  return printable(`${MARK[result.status]} ${result.label}: ${result.detail}${fix}`);
}

/** 0 when nothing failed, else the exit code of the first failure's kind. */
export function exitCodeOf(results: readonly CheckResult[]): number {
  const first = results.find((result) => result.status === 'fail');
  return first ? EXIT_CODES[first.kind ?? 'internal'] : 0;
}
