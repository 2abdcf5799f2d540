import { setFlagsFromString } from 'node:v8';

/**
 * Keeps V8's young generation at its initial size (two 1 MiB semi-spaces) from now on.
 *
 * A port session turns every 1 KiB message into a few short-lived objects (frame views, digests,
 * acknowledgements). Under steady traffic V8 keeps doubling the young generation up to 16 MiB,
 * and the dead buffers it holds between scavenges add tens of MB of peak RSS for no gain in
 * speed. `--max-semi-space-size` would cap it, but only on the command line, which the single
 * executable cannot carry. The growth factor, unlike the maximum, is read each time V8 considers
 * growing, so setting it at run time still takes effect.
 *
 * A function, not an import side effect: a V8 flag is process state, which a startup snapshot
 * would not carry from the build into the run.
 */
export function keepYoungGenerationSmall(): void {
  setFlagsFromString('--semi-space-growth-factor=1');
}
