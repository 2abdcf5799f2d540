/**
 * npm scripts (and so `npm test` and CI) run on the machine's own Node: no package links a `node`
 * into node_modules/.bin, where npm would put it first on every script's PATH. The build's pinned
 * Node binaries live in .node-binaries/, outside the dependency tree.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

const REPO = path.resolve(import.meta.dirname, '../..');
const NODE_BINARY_PACKAGE = /(^|\/)node_modules\/node-(bin-)?(linux|darwin|win|sunos|aix)(-|$)/;

/** The first executable `node` along a PATH. */
function nodeOnPath(pathValue: string): string | undefined {
  for (const folder of pathValue.split(path.delimiter)) {
    const candidate = path.join(folder, 'node');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

describe('npm scripts run on the machine\'s own Node', () => {
  it('package-lock.json has no Node binary package and node_modules/.bin has no node', () => {
    const lock = JSON.parse(readFileSync(path.join(REPO, 'package-lock.json'), 'utf8')) as { packages: Record<string, unknown> };
    assert.deepEqual(Object.keys(lock.packages).filter((key) => NODE_BINARY_PACKAGE.test(key)), []);
    assert.equal(existsSync(path.join(REPO, 'node_modules', '.bin', 'node')), false);
  });

  it('the node an npm script starts is the one on PATH outside npm, and this test runs on it', (t) => {
    // `npm exec -c` runs a command with exactly the PATH npm gives scripts (node_modules/.bin first).
    const result = spawnSync('npm', ['exec', '--offline', '-c', 'node -p "process.execPath + \'\\n\' + process.version"'], {
      cwd: REPO,
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(result.status, 0, result.stderr);
    const [scriptNode, scriptVersion] = result.stdout.trim().split('\n');
    const machinePath = (process.env.PATH ?? '').split(path.delimiter).filter((p) => !p.includes('node_modules')).join(path.delimiter);
    const machineNode = nodeOnPath(machinePath);
    assert.ok(machineNode, 'a node on PATH');
    const machineVersion = spawnSync(machineNode, ['--version'], { encoding: 'utf8', timeout: 30_000 }).stdout.trim();
    t.diagnostic(`npm scripts run ${scriptNode} ${scriptVersion}; the machine's node is ${machineNode} ${machineVersion}; this test runs on ${process.version}`);
    assert.equal(realpathSync(scriptNode!), realpathSync(machineNode));
    assert.equal(scriptVersion, machineVersion);
    assert.equal(process.version, machineVersion);
  });
});
