/**
 * npm's prepare step (so `npm ci` runs it): brings the pinned Node.js binaries of
 * scripts/node-binaries.json into .node-binaries/, checked against their sha512. Does nothing when
 * they are already there. After it, `npm run build:binary` and `build:binaries` need no network.
 */
import { FetchError, fetchNodeBinaries, readPins } from './node-binaries.js';

try {
  const pins = readPins();
  fetchNodeBinaries((line) => process.stdout.write(`fetch-node-binaries: ${line}\n`), pins);
} catch (error) {
  const message = error instanceof FetchError || error instanceof Error ? error.message : String(error);
  process.stderr.write(`fetch-node-binaries: ${message}\n`);
  process.exit(1);
}
