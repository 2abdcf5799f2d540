/**
 * scripts/macho-adhoc-sign.ts on Node's own macOS release binaries (Apple-signed, so they already
 * have an LC_CODE_SIGNATURE to replace), checked by the independent reader in macho-signature.ts.
 * The build's own case (postject removed the signature, a load command is added) is checked on
 * the built binaries in binaries.test.ts.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { adhocSign } from '../../scripts/macho-adhoc-sign.js';
import { nodeBinaryPath } from '../../scripts/node-binaries.js';
import { checkMachOSignature, CPU_TYPE_ARM64, CPU_TYPE_X86_64 } from './macho-signature.js';

describe('ad-hoc signing a Mach-O that already has a signature', () => {
  for (const [target, cputype] of [
    ['darwin-arm64', CPU_TYPE_ARM64],
    ['darwin-x64', CPU_TYPE_X86_64],
  ] as const) {
    it(`${target}: Apple's signature is replaced in place by a valid ad-hoc one; signing again changes nothing`, () => {
      const original = readFileSync(nodeBinaryPath(target));
      const signed = adhocSign(original, 'node-adhoc');
      const report = checkMachOSignature(signed.file);
      assert.deepEqual(report.problems, []);
      assert.equal(report.cputype, cputype);
      assert.equal(report.identifier, 'node-adhoc');
      assert.equal(report.flags, 0x2);
      assert.equal(report.cdhash, signed.cdhash);
      // Everything before the signature is the original but for the two sizes in the header.
      const before = checkMachOSignature(original);
      assert.equal(report.codeLimit, before.codeLimit);
      let differing = 0;
      for (let i = 0; i < report.codeLimit!; i++) if (original[i] !== signed.file[i]) differing++;
      assert.ok(differing > 0 && differing <= 16, `${differing} bytes of load commands changed`);
      assert.ok(signed.file.equals(adhocSign(signed.file, 'node-adhoc').file), 'deterministic and idempotent');
    });
  }

  it('refuses what is not a 64-bit Mach-O executable', () => {
    assert.throws(() => adhocSign(Buffer.from('\x7fELF not mach-o at all, just some bytes here'), 'x'), /not a thin 64-bit little-endian Mach-O/);
  });
});
