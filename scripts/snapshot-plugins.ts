/**
 * What the bundle needs to be the entry of a V8 startup snapshot (scripts/build-binary.ts,
 * `--snapshot`): Node runs the entry once at build time, inside the snapshot builder, and saves
 * the heap; the executable then starts from that heap, with the AWS SDK, ws and yargs already
 * evaluated, and calls the function the entry registered (scripts/snapshot-entry.ts).
 *
 * Node 22's snapshot builder cannot save the native state behind three kinds of objects, and the
 * build aborts ("global handle not serialized") when the heap holds one:
 *
 *   - node:http, node:https and node:http2 (their parser and session bindings) and node:tls
 *     (its secure-context binding): the SDK and ws require them at the top of their modules but use
 *     them only when a request is made. Each becomes a stand-in module that requires the real one
 *     on first use. Its plain data (STATUS_CODES, METHODS, http2.constants, ...) is read from the
 *     pinned Node itself at build time, so module code that copies such a value at load time gets
 *     the real value without loading anything; using a function or class while the snapshot is
 *     being built fails the build, naming it.
 *   - Intl.Segmenter: string-width (yargs' help layout) makes one at load time; it becomes a
 *     stand-in that makes the real one on first use.
 *
 * Both stand-ins are checked against the source they replace, so a dependency update that
 * changes them fails the build instead of silently changing behaviour.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Plugin } from 'esbuild';

/** Built-in modules whose bindings a snapshot cannot hold (found by building one with each). */
export const DEFERRED_BUILTINS = ['http', 'https', 'http2', 'tls'] as const;

interface BuiltinShape {
  keys: string[];
  /** Own enumerable properties that are plain data (JSON-safe, no functions, no class instances). */
  data: Record<string, unknown>;
}

/** The export names and plain data of each deferred built-in, as the pinned Node has them. */
export function readBuiltinShapes(node: string): Record<string, BuiltinShape> {
  const script = `
    const isPlain = (v) => v === null || ['string', 'number', 'boolean'].includes(typeof v) ||
      (Array.isArray(v) ? v.every(isPlain) : typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype && Object.values(v).every(isPlain));
    const shapes = {};
    for (const name of ${JSON.stringify(DEFERRED_BUILTINS)}) {
      const m = require('node:' + name);
      const keys = Object.keys(m);
      shapes[name] = { keys, data: Object.fromEntries(keys.filter((k) => typeof m[k] !== 'function' && isPlain(m[k])).map((k) => [k, m[k]])) };
    }
    process.stdout.write(JSON.stringify(shapes));`;
  return JSON.parse(execFileSync(node, ['-e', script], { encoding: 'utf8', env: {}, timeout: 60_000 })) as Record<string, BuiltinShape>;
}

/** The stand-in module for one deferred built-in (CommonJS source). */
function standIn(name: string, shape: BuiltinShape): string {
  return `"use strict";
const keys = new Set(${JSON.stringify(shape.keys)});
const data = ${JSON.stringify(shape.data)};
let real;
function load(key) {
  if (real === undefined && require("node:v8").startupSnapshot.isBuildingSnapshot()) {
    throw new Error("node:${name}." + String(key) + " was used while the startup snapshot was being built; scripts/snapshot-plugins.ts explains why it cannot be");
  }
  return (real ??= require("node:${name}"));
}
module.exports = new Proxy({}, {
  get: (_, key) => real !== undefined ? real[key] : Object.hasOwn(data, key) ? data[key] : keys.has(key) ? load(key)[key] : undefined,
  has: (_, key) => keys.has(key),
  ownKeys: () => [...keys],
  getOwnPropertyDescriptor: (_, key) => keys.has(key) ? { configurable: true, enumerable: true, get: () => (real ?? load(key))[key] } : undefined,
});
`;
}

/** Resolves `http`, `node:http`, ... to their stand-ins. */
export function deferBuiltins(shapes: Record<string, BuiltinShape>): Plugin {
  const names = new RegExp(`^(node:)?(${DEFERRED_BUILTINS.join('|')})$`);
  return {
    name: 'defer-builtins-for-snapshot',
    setup(b) {
      // The stand-in's own require of the real module is left to esbuild (an external built-in).
      b.onResolve({ filter: names }, (args) =>
        args.namespace === 'deferred-builtin' ? undefined : { path: args.path.replace(/^node:/, ''), namespace: 'deferred-builtin' },
      );
      b.onLoad({ filter: /.*/, namespace: 'deferred-builtin' }, (args) => {
        const shape = shapes[args.path];
        if (!shape) throw new Error(`no shape read for node:${args.path}`);
        return { contents: standIn(args.path, shape), loader: 'js' };
      });
    },
  };
}

const SEGMENTER_AT_LOAD = 'const segmenter = new Intl.Segmenter();';
const SEGMENTER_ON_FIRST_USE = 'let madeSegmenter; const segmenter = { segment: (text) => (madeSegmenter ??= new Intl.Segmenter()).segment(text) };';

/** string-width's load-time Intl.Segmenter, made on first use instead (every copy in the tree). */
export const deferStringWidthSegmenter: Plugin = {
  name: 'defer-string-width-segmenter',
  setup(b) {
    b.onLoad({ filter: /[\\/]node_modules[\\/]string-width[\\/]index\.js$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      // The stand-in only has segment(): the module must call nothing else on it, nor hand it on.
      const otherUse = /\bsegmenter\s*\.(?!segment\()|[(,=:]\s*segmenter\b(?!\s*\.)/.test(source.replace(SEGMENTER_AT_LOAD, ''));
      if (!source.includes(SEGMENTER_AT_LOAD) || otherUse) {
        throw new Error(`${args.path} no longer makes and uses its Intl.Segmenter as scripts/snapshot-plugins.ts expects; update the stand-in`);
      }
      return { contents: source.replace(SEGMENTER_AT_LOAD, SEGMENTER_ON_FIRST_USE), loader: 'js' };
    });
  },
};
