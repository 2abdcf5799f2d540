import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseSessionParameters } from '../../src/cli/session-parameters.js';
import { SsmProxyError } from '../../src/errors.js';

// Expected values follow awscli/shorthand.py plus the CLI's scalar → list back-compat step.
const cases: [string, Record<string, string[]>][] = [
  ['portNumber=22', { portNumber: ['22'] }],
  ['portNumber=22,localPortNumber=56789', { portNumber: ['22'], localPortNumber: ['56789'] }],
  ['commands=ls,pwd', { commands: ['ls', 'pwd'] }],
  ['a=b,c,d=e', { a: ['b', 'c'], d: ['e'] }],
  ['a=[b,c],d=e', { a: ['b', 'c'], d: ['e'] }],
  ['host="db.example, internal",portNumber=5432', { host: ['db.example, internal'], portNumber: ['5432'] }],
  ["commands='echo \\'hi\\''", { commands: ["echo 'hi'"] }],
  ['commands=echo a\\,b', { commands: ['echo a,b'] }],
  ['  portNumber = 22 , host = x ', { portNumber: ['22'], host: ['x'] }],
  ['commands=uname -a', { commands: ['uname -a'] }],
  ['url=http://h/p?q=1', { url: ['http://h/p?q=1'] }],
  ['empty=', { empty: [''] }],
  ['{"portNumber":["22"]}', { portNumber: ['22'] }],
  [' {"portNumber":["22"],"host":["a","b"]} ', { portNumber: ['22'], host: ['a', 'b'] }],
];

for (const [input, expected] of cases) {
  test(`--parameters ${input}`, () => {
    assert.deepEqual(parseSessionParameters(input), expected);
  });
}

const bad: [string, RegExp][] = [
  ['portNumber', /expected '='/],
  ['=22', /expected a parameter name/],
  ['a=1,a=2', /a is given twice/],
  ['a=b,', /expected a value, found the end/],
  ['a="open', /unterminated double-quoted value/],
  ['a={b=c}', /not a list of strings/],
  ['a=[[b]]', /not nested lists/],
  ['{"portNumber":"22"}', /must be a list of strings/],
  ['{"portNumber":[22]}', /must be a list of strings/],
  ['{"portNumber":', /not valid JSON/],
];

for (const [input, message] of bad) {
  test(`--parameters ${input} is a usage error`, () => {
    assert.throws(
      () => parseSessionParameters(input),
      (error: unknown) => error instanceof SsmProxyError && error.kind === 'usage' && message.test(error.message) && !error.message.includes('\n'),
    );
  });
}
