/**
 * Imported first by scripts/snapshot-entry.ts, for its side effect, so that every module loaded
 * after it sees the guarded functions (and bundled into the executable with it).
 *
 * Whatever the heap holds when the startup snapshot is taken is the starting state of every run:
 *
 *   - a random value drawn while building would repeat in every run (Node's randomUUID, for one,
 *     draws a pool of random bytes on first use and hands out UUIDs from it): every random source
 *     of node:crypto and of Web Crypto refuses to work while the snapshot is being built, and
 *     works as before afterwards;
 *   - an environment variable read while building would keep the build machine's value (an
 *     AWS_* setting read at load time, say, would ignore the user's): reading one fails the build,
 *     except the few below, read at load time by dependencies for things that cannot matter in
 *     this executable. process.env is itself again before the heap is saved.
 */
import crypto from 'node:crypto';
import { startupSnapshot } from 'node:v8';

type Functions = Record<string, (...args: unknown[]) => unknown>;

function guard(owner: Functions, label: string, names: readonly string[]): void {
  for (const name of names) {
    const original = owner[name];
    const descriptor = Object.getOwnPropertyDescriptor(owner, name);
    // node:crypto's getRandomValues cannot be replaced (Node defines it fixed); it keeps no pool,
    // and Web Crypto's is guarded below.
    if (typeof original !== 'function' || !descriptor?.configurable) continue;
    // Modules that copy the function at load time keep this wrapper, so it must work afterwards.
    const guarded = function (this: unknown, ...args: unknown[]) {
      if (startupSnapshot.isBuildingSnapshot()) {
        throw new Error(`${label}.${name} was called while the startup snapshot was being built; its result would repeat in every run`);
      }
      return original.apply(this, args);
    };
    Object.defineProperty(owner, name, { value: guarded, writable: true, configurable: true, enumerable: descriptor.enumerable });
  }
}

guard(crypto as unknown as Functions, 'crypto', ['randomBytes', 'randomFillSync', 'randomFill', 'randomUUID', 'randomInt', 'getRandomValues']);
// Web Crypto's methods live on Crypto.prototype.
guard(Object.getPrototypeOf(globalThis.crypto) as Functions, 'globalThis.crypto', ['randomUUID', 'getRandomValues']);

/** Environment variables dependencies read at load time, and why their build-time value is harmless. */
const READ_AT_LOAD = new Map([
  ['YARGS_MIN_NODE_VERSION', "yargs' check of the Node version, which is the executable's own"],
  ['WS_NO_BUFFER_UTIL', "ws's opt-out of bufferutil, which the bundle leaves out anyway"],
  ['FORCE_COLOR', "Node's colours for util.inspect on a terminal; ssm-proxy prints no inspected values"],
  ['NO_COLOR', 'as FORCE_COLOR'],
  ['NODE_DISABLE_COLORS', 'as FORCE_COLOR'],
  ['AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA', 'the SDK inside AWS Lambda only'],
  ['AWS_LAMBDA_BENCHMARK_MODE', 'the SDK inside AWS Lambda only'],
]);

const environment = process.env;
process.env = new Proxy(environment, {
  get(target, name) {
    if (typeof name === 'string' && !READ_AT_LOAD.has(name) && startupSnapshot.isBuildingSnapshot()) {
      throw new Error(`process.env.${name} was read while the startup snapshot was being built; its build-time value would be frozen into every run`);
    }
    return Reflect.get(target, name);
  },
});
startupSnapshot.addSerializeCallback(() => {
  process.env = environment;
});
