/**
 * How to run the ssm-proxy that is running now, as absolute argv words for a ProxyCommand. A
 * packaged binary (pkg, Node SEA, or any executable not called node) is its own program; in
 * development it is node plus the absolute path of the CLI script.
 */
import { realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

export interface SelfProcess {
  readonly execPath: string;
  readonly argv: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  /** True inside a pkg or Node SEA binary. */
  readonly packaged: boolean;
}

/** Tests (and unusual installs) name the program with SSM_PROXY_SELF, an absolute path. */
export function ssmProxyInvocation(self: SelfProcess = currentProcess()): string[] {
  const override = self.env.SSM_PROXY_SELF;
  if (override) return [override];
  if (self.packaged || !/^node(js)?\d*(\.exe)?$/i.test(path.basename(self.execPath))) return [self.execPath];
  const script = self.argv[1];
  if (!script) return [self.execPath];
  return [self.execPath, realpathOr(path.resolve(script))];
}

function realpathOr(file: string): string {
  try {
    return realpathSync(file);
  } catch {
    return file;
  }
}

function currentProcess(): SelfProcess {
  return { execPath: process.execPath, argv: process.argv, env: process.env, packaged: isPackaged() };
}

function isPackaged(): boolean {
  if ((process as { pkg?: unknown }).pkg !== undefined) return true;
  try {
    // node:sea exists from Node 20.12; older Nodes simply are not a SEA.
    const sea = createRequire(import.meta.url)('node:sea') as { isSea?: () => boolean };
    return sea.isSea?.() === true;
  } catch {
    return false;
  }
}
