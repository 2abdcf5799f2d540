/** Which file the installer edits: --config, else ~/.ssh/config under the given home. */
import os from 'node:os';
import path from 'node:path';

export function configPath(explicit: string | undefined, home: string | undefined): string {
  if (explicit !== undefined && explicit !== '') return path.resolve(explicit);
  return path.join(home ?? os.homedir(), '.ssh', 'config');
}

/** A short name for messages: ~/… under the home directory. */
export function displayPath(file: string, home: string | undefined): string {
  const h = home ?? os.homedir();
  return h && file.startsWith(h + path.sep) ? `~${file.slice(h.length)}` : file;
}
