import assert from 'node:assert/strict';
import { test } from 'node:test';
import { printable } from '../../src/printable.js';

test('printable: escape sequences, C1 controls and DEL are shown, not obeyed', () => {
  assert.equal(printable('Host web\x1b]0;owned\x07'), 'Host web\\x1b]0;owned\\x07');
  assert.equal(printable('i-\x1b[31m'), 'i-\\x1b[31m');
  assert.equal(printable('a\x9bb\x7fc'), 'a\\x9bb\\x7fc');
  assert.equal(printable('a\nb\tc'), 'a\\x0ab\\x09c');
});

test('printable: ordinary text, Unicode and backslashes pass unchanged; a second pass changes nothing', () => {
  assert.equal(printable('C:\\Users\\me'), 'C:\\Users\\me');
  const once = printable('x\x1b[31m\n');
  assert.equal(printable(once), once);
  assert.equal(printable('Région → i-0123 ✔'), 'Région → i-0123 ✔');
});
