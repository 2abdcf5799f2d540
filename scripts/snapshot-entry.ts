/**
 * The bundle's entry for an executable with a V8 startup snapshot (scripts/build-binary.ts).
 *
 * Node runs this once, at build time, inside its snapshot builder: it loads the CLI and every
 * module `connect` uses (the AWS SDK, ws, yargs), lets their promises settle, and saves the heap.
 * The executable then starts from that heap and runs only the function registered below, so
 * none of those modules is parsed or evaluated at run time (README: Size and start-up).
 *
 * Whatever the heap holds at build time is frozen into every start, so nothing may read the
 * environment, argv, clocks or randomness while it is being built. src/ keeps such reads inside
 * functions; the random sources refuse to work until the snapshot is taken
 * (scripts/snapshot-guards.ts).
 */
import './snapshot-guards.js'; // first: before any module copies a random source
import { setFlagsFromString, startupSnapshot } from 'node:v8';
import { main } from '../src/cli/main.js';

/** The modules `connect` (and the other session commands) load, evaluated into the heap. */
async function loadSessionModules(): Promise<void> {
  await Promise.all([
    import('../src/cli/commands/index.js'),
    import('../src/cli/connect-main.js'),
    import('../src/cli/session-setup.js'),
    import('../src/cli/network-options.js'),
    import('../src/aws/credentials.js'),
    import('../src/aws/ssm-api.js'),
    import('../src/network/network-agents.js'),
    import('../src/session/websocket-connection.js'),
    import('../src/session/run-session.js'),
    import('../src/session/port-over-stdio.js'),
    import('../src/cli/shell-main.js'),
    import('../src/cli/forward-main.js'),
    import('../src/session/forward/forward-kind.js'),
    import('../src/session/forward/local-listener.js'),
    import('@aws-sdk/client-ssm'),
    import('@aws-sdk/credential-providers'),
    import('@smithy/core/config'),
  ]);
}

startupSnapshot.setDeserializeMainFunction(() => {
  // V8 flags are not part of the heap: set again what src/cli/young-generation.ts sets.
  setFlagsFromString('--semi-space-growth-factor=1');
  // In a single executable argv is [executable, executable, ...arguments].
  void main(process.argv.slice(2));
});
loadSessionModules().catch((error: unknown) => {
  process.stderr.write(`snapshot entry: loading the session modules failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
