/**
 * Finding a program on PATH as the platform's own shell would. On Windows a command is found by
 * its name plus one of PATHEXT's extensions (`ssh` is `ssh.exe`), the search path is split on
 * `;`, and there is no execute bit to test, so existence is what counts.
 */
import { accessSync, constants } from 'node:fs';
import path from 'node:path';

const DEFAULT_PATHEXT = '.COM;.EXE;.BAT;.CMD';

export function executableCandidates(command: string, env: NodeJS.ProcessEnv, platform: NodeJS.Platform): string[] {
  const pathApi = platform === 'win32' ? path.win32 : path.posix;
  // Windows keeps the variable as Path; Node's env object there is case-insensitive, a plain one is not.
  const searchPath = env.PATH ?? (platform === 'win32' ? (env.Path ?? '') : '');
  const dirs = searchPath.split(platform === 'win32' ? ';' : ':').filter((dir) => dir !== '');
  if (platform !== 'win32') return dirs.map((dir) => pathApi.join(dir, command));
  const extensions = (env.PATHEXT ?? DEFAULT_PATHEXT).split(';').filter((ext) => ext !== '');
  const hasExtension = extensions.some((ext) => command.toLowerCase().endsWith(ext.toLowerCase()));
  const names = hasExtension ? [command] : extensions.map((ext) => `${command}${ext.toLowerCase()}`);
  return dirs.flatMap((dir) => names.map((name) => pathApi.join(dir.replace(/^"(.*)"$/, '$1'), name)));
}

/** The first candidate that exists (and, off Windows, is executable), or undefined. */
export function findExecutable(
  command: string,
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
  access: (file: string, mode: number) => void = accessSync,
): string | undefined {
  const mode = platform === 'win32' ? constants.F_OK : constants.X_OK;
  for (const candidate of executableCandidates(command, env, platform)) {
    try {
      access(candidate, mode);
      return candidate;
    } catch {
      // keep looking
    }
  }
  return undefined;
}
