#!/usr/bin/env node
/**
 * Entry point. A plain `connect` command line (every word understood exactly, see plain-argv.ts)
 * runs without loading yargs: connect is the ProxyCommand, started for every ssh, scp and rsync.
 * Every other command line goes to yargs (yargs-cli.ts): help, errors, the other commands.
 * Command modules keep their heavy imports (AWS SDK, ws) inside their handlers.
 */
import { CONNECT_PLAIN, runConnectCommand, type ConnectRawArgs } from './commands/connect.js';
import { parsePlainArgv } from './plain-argv.js';
import { keepYoungGenerationSmall } from './young-generation.js';

export async function main(argv: string[]): Promise<void> {
  keepYoungGenerationSmall(); // first: loading the CLI is enough to grow the young generation once
  // The SDK warns on stderr about Node versions it will drop; that is for SDK users, not ours
  // (the packaged binary carries its own Node).
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const plain = parsePlainArgv(argv, CONNECT_PLAIN);
  if (plain) return runConnectCommand(plain as unknown as ConnectRawArgs, argv);
  const { runYargs } = await import('./yargs-cli.js');
  await runYargs(argv);
}

/** The words after the program, as yargs/helpers' hideBin gives them outside Electron, without loading yargs. */
function hideBin(argv: string[]): string[] {
  return argv.slice(2);
}

await main(hideBin(process.argv));
