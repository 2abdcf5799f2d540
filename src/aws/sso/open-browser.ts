import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../../log.js';

/**
 * Opens `url` in a browser when one can be shown: `open` on macOS, `xdg-open` where a display
 * exists (DISPLAY or WAYLAND_DISPLAY). Best effort: a missing opener or a failing one is logged
 * at -v and otherwise ignored — the URL and code are on stderr anyway. Never touches stdout.
 */
export function openBrowser(url: string, log: Logger, env: NodeJS.ProcessEnv = process.env, platform = process.platform): void {
  if (env.SSM_PROXY_NO_BROWSER) return;
  const opener = platform === 'darwin' ? 'open' : env.DISPLAY || env.WAYLAND_DISPLAY ? 'xdg-open' : undefined;
  if (!opener) {
    log.info('no display: not opening a browser');
    return;
  }
  const found = findOnPath(opener, env.PATH ?? '');
  if (!found) {
    log.info(`${opener} not found: not opening a browser`);
    return;
  }
  try {
    const child = spawn(found, [url], { stdio: 'ignore', detached: true });
    child.on('error', (error) => log.info(`could not open a browser: ${error.message}`));
    child.unref();
  } catch (error) {
    log.info(`could not open a browser: ${(error as Error).message}`);
  }
}

function findOnPath(command: string, searchPath: string): string | undefined {
  for (const dir of searchPath.split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // next
    }
  }
  return undefined;
}
