/**
 * Imported first by scripts/snapshot-entry.ts, for its side effect, so that every module loaded
 * after it sees the guarded functions (and bundled into the executable with it).
 *
 * Whatever the heap holds when the startup snapshot is taken is the starting state of every run,
 * so a random value drawn while building would repeat in every run: Node's randomUUID, for one,
 * draws a pool of random bytes on first use and hands out UUIDs from it. Every random source of
 * node:crypto and of Web Crypto therefore refuses to work while the snapshot is being built, and
 * works as before afterwards.
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
