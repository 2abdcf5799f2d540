/**
 * The local terminal is restored on every way out, checked with `stty -a` in a real tmux pane:
 * a crash (uncaught exception) and a plain process.exit while in raw mode. The normal end and
 * signals are covered by the shell tests.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { REPO_ROOT, startTerminalHarness, type TerminalHarness } from './terminal-harness.js';

const harnesses: TerminalHarness[] = [];
after(() => Promise.all(harnesses.map((h) => h.stop())));

async function runInPane(ending: string): Promise<{ code: number; sttyBefore: string; sttyAfter: string; raw: string }> {
  const h = await startTerminalHarness();
  harnesses.push(h);
  const script = join(h.dir, 'raw-then-end.mjs');
  await writeFile(
    script,
    [
      `import { execFileSync } from 'node:child_process';`,
      `import { writeFileSync } from 'node:fs';`,
      `import { LocalTerminal } from ${JSON.stringify(join(REPO_ROOT, 'lib', 'session', 'shell', 'local-terminal.js'))};`,
      `const terminal = new LocalTerminal({ input: process.stdin, sizeSources: [process.stdout], exitHooks: process });`,
      `terminal.enterRawMode();`,
      // What raw mode looks like, for the test: no icanon, no echo, no isig, no opost.
      `writeFileSync(${JSON.stringify(join(h.dir, 'stty-raw'))}, execFileSync('stty', ['-a'], { stdio: [0, 'pipe', 'pipe'] }));`,
      `setTimeout(() => { ${ending} }, 100);`,
      '',
    ].join('\n'),
  );
  await h.startCommand([process.execPath, script]);
  const result = await h.waitForExit(10_000);
  const { readFile } = await import('node:fs/promises');
  return { ...result, raw: await readFile(join(h.dir, 'stty-raw'), 'utf8') };
}

test('a crash in raw mode leaves the terminal as it was', async () => {
  const result = await runInPane(`throw new Error('crash while raw');`);
  assert.equal(result.code, 1);
  for (const flag of ['-icanon', '-isig', '-echo', '-opost', '-icrnl', '-ixon']) assert.match(result.raw, new RegExp(`(^|\\s)${flag}\\b`), flag);
  assert.equal(result.sttyAfter, result.sttyBefore);
});

test('process.exit in raw mode leaves the terminal as it was', async () => {
  const result = await runInPane('process.exit(5);');
  assert.equal(result.code, 5);
  assert.equal(result.sttyAfter, result.sttyBefore);
});
