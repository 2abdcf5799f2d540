/**
 * The bundle's entry for an executable with a V8 startup snapshot (scripts/build-binary.ts).
 *
 * Node runs this once, at build time, inside its snapshot builder: it loads the CLI and every
 * module a session command uses (src/cli/connect-modules.ts's list, yargs, shell and forward),
 * lets their promises settle, and saves the heap.
 * The executable then starts from that heap and runs only the function registered below, so
 * none of those modules is parsed or evaluated at run time (README: Size and start-up).
 *
 * Whatever the heap holds at build time is frozen into every start, so nothing may read the
 * environment, argv, clocks or randomness while it is being built. src/ keeps such reads inside
 * functions (test/cli/snapshot-safety.test.ts); reading an environment variable or drawing
 * randomness while the snapshot is built fails the build (scripts/snapshot-guards.ts).
 */
import './snapshot-guards.js'; // first: before any module copies a random source
import { startupSnapshot } from 'node:v8';
import { loadConnectModules } from '../src/cli/connect-modules.js';
import { main } from '../src/cli/main.js';

/** What a session command loads, evaluated into the heap: connect's one list, every variant, and the other kinds. */
async function loadSessionModules(): Promise<void> {
  await loadConnectModules({ everyVariant: true, proxyAgents: false });
  await Promise.all([
    import('../src/cli/yargs-cli.js'),
    import('../src/cli/shell-main.js'),
    import('../src/cli/forward-main.js'),
    import('../src/session/forward/forward-kind.js'),
    import('../src/session/forward/local-listener.js'),
  ]);
}

startupSnapshot.setDeserializeMainFunction(() => {
  // In a single executable argv is [executable, executable, ...arguments].
  void main(process.argv.slice(2));
});
loadSessionModules().catch((error: unknown) => {
  process.stderr.write(`snapshot entry: loading the session modules failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
