/**
 * Renaming a finished temp file over the real one. On Windows the rename (MoveFileExW with
 * MOVEFILE_REPLACE_EXISTING) fails with EPERM, EACCES or EBUSY while another process holds the
 * target open without FILE_SHARE_DELETE: an editor, a virus scanner, the search indexer, ssh.exe
 * reading its config. Those holds are short, so the rename is tried again, a bounded number of
 * times with growing pauses (about 2.5 s in all), and then the error is thrown. Elsewhere a
 * rename over an open file just works, and a failure is final at once.
 */
import { promises as fs } from 'node:fs';
import { codeOf } from '../error-code.js';

export interface ReplaceOptions {
  platform?: NodeJS.Platform;
  /** Pauses before each retry, in ms; their count bounds the attempts. */
  pauses?: readonly number[];
  rename?: (from: string, to: string) => Promise<void>;
  sleep?: (ms: number) => Promise<void>;
}

export const WINDOWS_RENAME_PAUSES: readonly number[] = [10, 20, 40, 80, 160, 250, 250, 250, 250, 250, 250, 250, 250];

const TRANSIENT_ON_WINDOWS = new Set(['EPERM', 'EACCES', 'EBUSY']);

export async function replaceFile(from: string, to: string, options: ReplaceOptions = {}): Promise<void> {
  const rename = options.rename ?? ((a: string, b: string) => fs.rename(a, b));
  const windows = (options.platform ?? process.platform) === 'win32';
  const pauses = windows ? (options.pauses ?? WINDOWS_RENAME_PAUSES) : [];
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  for (let attempt = 0; ; attempt++) {
    try {
      await rename(from, to);
      return;
    } catch (error) {
      if (attempt >= pauses.length || !TRANSIENT_ON_WINDOWS.has(codeOf(error) ?? '')) throw error;
      await sleep(pauses[attempt]!);
    }
  }
}
