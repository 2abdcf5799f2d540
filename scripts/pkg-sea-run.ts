/**
 * Runs @yao-pkg/pkg's simple SEA mode (the `pkg --sea app.js` code path) with one change the
 * command line cannot express: the SEA config names the bundle by a relative path.
 *
 * Node stores the config's `main` path, as written, inside the blob. pkg writes the absolute
 * path of the bundle, so the blob (and every executable) would differ with the folder the build
 * ran in. Here the bundle lies at $TMPDIR/ssm-proxy.cjs and pkg generates the blob in its own
 * $TMPDIR/pkg-sea-XXXXXX folder, so `../ssm-proxy.cjs` names it from there on every machine.
 *
 * Started by scripts/build-binary.ts under the pinned Node (pkg's SEA mode needs Node >= 22):
 *   node --import tsx scripts/pkg-sea-run.ts '{"nodeVersion":"22.23.2","targets":[...]}'
 */
import { createRequire } from 'node:module';
import path from 'node:path';

interface Job {
  nodeVersion: string;
  /** V8 code cache of the bundle in the blob: only for a blob read by the Node that makes it. */
  codeCache?: boolean;
  /** V8 startup snapshot made by running the bundle (scripts/snapshot-entry.ts): same rule. */
  snapshot?: boolean;
  targets: { platform: 'linux' | 'macos' | 'win'; arch: 'x64' | 'arm64'; output: string }[];
}

const require = createRequire(import.meta.url);
const pkgDir = path.dirname(require.resolve('@yao-pkg/pkg/package.json'));
const { default: sea } = require(path.join(pkgDir, 'lib-es5', 'sea.js')) as {
  default: (entry: string, options: { targets: (Job['targets'][number] & { nodeRange: string })[]; signature: boolean; seaConfig: Record<string, unknown> }) => Promise<void>;
};

const job = JSON.parse(process.argv[2] ?? '') as Job;
const stagingDir = process.env.TMPDIR;
if (!stagingDir || !path.isAbsolute(stagingDir)) throw new Error('TMPDIR must be the absolute staging folder holding ssm-proxy.cjs');
await sea(path.join(stagingDir, 'ssm-proxy.cjs'), {
  targets: job.targets.map((t) => ({ ...t, nodeRange: `node${job.nodeVersion}` })),
  // Signing is the build's job (scripts/macho-adhoc-sign.ts): pkg would need codesign or ldid.
  signature: false,
  // pkg's own defaults for the rest: no snapshot and no code cache unless asked (without them, a
  // blob serves every platform).
  seaConfig: { main: '../ssm-proxy.cjs', disableExperimentalSEAWarning: true, useSnapshot: job.snapshot === true, useCodeCache: job.codeCache === true },
});
