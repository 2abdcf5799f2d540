import { setFlagsFromString } from 'node:v8';

/**
 * Imported first by main.ts, for its side effect: V8's young generation stays at its initial
 * size (two 1 MiB semi-spaces) for the life of the process.
 *
 * A port session turns every 1 KiB message into a few short-lived objects (frame views, digests,
 * acknowledgements). Under steady traffic V8 keeps doubling the young generation up to 16 MiB,
 * and the dead buffers it holds between scavenges add tens of MB of peak RSS for no gain in
 * speed. `--max-semi-space-size` would cap it, but only on the command line, which the single
 * executable cannot carry. The growth factor, unlike the maximum, is read each time V8 considers
 * growing, so setting it at run time still takes effect; it is set before anything else loads,
 * as loading the CLI is enough to grow the young generation once.
 */
setFlagsFromString('--semi-space-growth-factor=1');
