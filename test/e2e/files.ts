/** File fixtures for transfer tests: random content, trees, and digests to compare them. */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Writes `bytes` random bytes in 1 MiB pieces (no giant buffer). */
export async function makeRandomFile(path: string, bytes: number): Promise<void> {
  const file = await open(path, 'w');
  try {
    for (let written = 0; written < bytes; ) {
      const piece = randomBytes(Math.min(1 << 20, bytes - written));
      await file.write(piece);
      written += piece.length;
    }
  } finally {
    await file.close();
  }
}

/**
 * A tree of `smallFiles` files (0–4 KiB, spread over nested directories, a few empty) plus one
 * `large.bin` of `largeBytes`.
 */
export async function makeTree(dir: string, shape: { smallFiles: number; largeBytes: number }): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (let i = 0; i < shape.smallFiles; i++) {
    const sub = join(dir, `d${i % 7}`, `e${i % 3}`);
    await mkdir(sub, { recursive: true });
    const size = i % 13 === 0 ? 0 : (i * 2654435761) % 4096;
    await writeFile(join(sub, `file-${i}.dat`), randomBytes(size));
  }
  await makeRandomFile(join(dir, 'large.bin'), shape.largeBytes);
}

/** SHA-256 over the sorted relative paths and contents of every file under `dir`. */
export async function treeDigest(dir: string): Promise<{ digest: string; files: number }> {
  const paths: string[] = [];
  async function walk(current: string): Promise<void> {
    for (const entry of await readdir(current, { withFileTypes: true })) {
      const full = join(current, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile()) paths.push(full);
    }
  }
  await walk(dir);
  const lines: string[] = [];
  for (const path of paths) {
    const contents = createHash('sha256').update(await readFile(path)).digest('hex');
    lines.push(`${relative(dir, path).split(sep).join('/')}\0${contents}`);
  }
  lines.sort();
  return { digest: createHash('sha256').update(lines.join('\n')).digest('hex'), files: lines.length };
}
