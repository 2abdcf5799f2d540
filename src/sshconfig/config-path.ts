/** Which file the installer edits: --config, else ~/.ssh/config under the given home. */
import os from 'node:os';
import path from 'node:path';
import type { FileWords } from '../files/user-file.js';
import { printable } from '../printable.js';

export function configPath(explicit: string | undefined, home: string | undefined): string {
  if (explicit !== undefined && explicit !== '') return path.resolve(explicit);
  return path.join(home ?? os.homedir(), '.ssh', 'config');
}

/** The one directory install-host may create when it is missing: ~/.ssh itself. */
export function sshDir(home: string | undefined): string {
  return path.join(home ?? os.homedir(), '.ssh');
}

/** A short name for messages: ~/… under the home directory, control characters escaped. */
export function displayPath(file: string, home: string | undefined): string {
  const h = home ?? os.homedir();
  return printable(h && file.startsWith(h + path.sep) ? `~${file.slice(h.length)}` : file);
}

const HINT = 'check the path and its permissions, or pass --config';

export function sshFileWords(shown: string): FileWords {
  return { shownAs: shown, hint: HINT };
}
