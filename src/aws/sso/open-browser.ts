import { spawn } from 'node:child_process';
import type { Logger } from '../../log.js';
import { browserOpener } from '../../platform/browser-opener.js';
import { findExecutable } from '../../platform/find-executable.js';

/**
 * Opens `url` in a browser when one can be shown: `open` on macOS, rundll32's URL handler on
 * Windows, `xdg-open` where a display exists (DISPLAY or WAYLAND_DISPLAY). Best effort: a missing
 * opener or a failing one is logged at -v and otherwise ignored — the URL and code are on stderr anyway. Never touches stdout.
 */
export function openBrowser(url: string, log: Logger, env: NodeJS.ProcessEnv = process.env, platform = process.platform): void {
  if (env.SSM_PROXY_NO_BROWSER) return;
  const opener = browserOpener(url, platform, env);
  if (!opener) {
    log.info('no display: not opening a browser');
    return;
  }
  const found = findExecutable(opener.command, env, platform);
  if (!found) {
    log.info(`${opener.command} not found: not opening a browser`);
    return;
  }
  try {
    const child = spawn(found, opener.args, { stdio: 'ignore', detached: true, windowsHide: true });
    child.on('error', (error) => log.info(`could not open a browser: ${error.message}`));
    child.unref();
  } catch (error) {
    log.info(`could not open a browser: ${(error as Error).message}`);
  }
}
