/**
 * Windows OpenSSH hands a ProxyCommand to CreateProcessW as a command line (no shell), and the
 * program splits it with the C runtime's rules. These run on any OS: the words install-host
 * writes must split back into exactly the words meant.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { splitWindowsCommandLine, windowsArgument, windowsProgram, windowsProxyCommand } from '../../src/platform/windows-command-line.js';
import { buildProxyCommand } from '../../src/sshconfig/proxy-command.js';

/** What ssh's percent_expand does to the text before running it (%p → the port, %% → %). */
const expand = (line: string, port = 22): string => line.replace(/%(%|p)/g, (_m, c: string) => (c === '%' ? '%' : String(port)));

describe('Windows command-line quoting for a ProxyCommand', () => {
  it('leaves plain words alone and quotes words with spaces, tabs, quotes, or nothing', () => {
    assert.equal(windowsArgument('connect'), 'connect');
    assert.equal(windowsArgument('C:\\tools\\x.exe'), 'C:\\tools\\x.exe');
    assert.equal(windowsArgument('a b'), '"a b"');
    assert.equal(windowsArgument('a\tb'), '"a\tb"');
    assert.equal(windowsArgument(''), '""');
    assert.equal(windowsArgument('say "hi"'), '"say \\"hi\\""');
  });

  it('doubles backslashes only before a quote, including the closing one', () => {
    assert.equal(windowsArgument('C:\\Program Files\\'), '"C:\\Program Files\\\\"');
    assert.equal(windowsArgument('a\\"b c'), '"a\\\\\\"b c"');
    assert.equal(windowsArgument('C:\\x y\\z'), '"C:\\x y\\z"');
  });

  it('always quotes the program and refuses a quote inside it', () => {
    assert.equal(windowsProgram('C:\\Users\\Jane Doe\\bin\\ssm-proxy.exe'), '"C:\\Users\\Jane Doe\\bin\\ssm-proxy.exe"');
    assert.equal(windowsProgram('C:\\t\\ssm-proxy.exe'), '"C:\\t\\ssm-proxy.exe"');
    assert.throws(() => windowsProgram('C:\\a"b.exe'), /double quote/);
  });

  const awkward = ['plain', 'two words', 'C:\\Program Files\\', 'trailing\\\\', 'q"uote', 'back\\"slash quote', '', '100%', 'tab\there', 'ünïcode dir'];
  it('every awkward word splits back to itself', () => {
    for (const word of awkward) {
      assert.deepEqual(splitWindowsCommandLine(`"C:\\p.exe" ${windowsArgument(word)}`), ['C:\\p.exe', word], JSON.stringify(word));
    }
    assert.deepEqual(splitWindowsCommandLine(['"C:\\p q\\x.exe"', ...awkward.map(windowsArgument)].join(' ')), ['C:\\p q\\x.exe', ...awkward]);
  });

  it('the ProxyCommand of the .exe: program first in quotes, %p for ssh, literal % doubled', () => {
    const line = windowsProxyCommand(['C:\\Users\\Jane Doe\\100% tools\\ssm-proxy.exe'], { target: 'i-0123456789abcdef0', profile: 'dev', region: 'eu-west-2' });
    assert.equal(line, '"C:\\Users\\Jane Doe\\100%% tools\\ssm-proxy.exe" connect i-0123456789abcdef0 %p --profile dev --region eu-west-2');
    assert.deepEqual(splitWindowsCommandLine(expand(line, 2222)), [
      'C:\\Users\\Jane Doe\\100% tools\\ssm-proxy.exe',
      'connect',
      'i-0123456789abcdef0',
      '2222',
      '--profile',
      'dev',
      '--region',
      'eu-west-2',
    ]);
  });

  it('an npm install on Windows: node.exe and the script, both paths with spaces', () => {
    const self = ['C:\\Program Files\\nodejs\\node.exe', 'C:\\Users\\Jane Doe\\AppData\\Roaming\\npm\\node_modules\\ssm-proxy\\lib\\cli\\main.js'];
    const line = buildProxyCommand(self, { target: 'mi-0123456789abcdef0' }, 'win32');
    assert.equal(line, `"${self[0]}" "${self[1]}" connect mi-0123456789abcdef0 %p`);
    assert.deepEqual(splitWindowsCommandLine(expand(line)), [...self, 'connect', 'mi-0123456789abcdef0', '22']);
  });

  it('POSIX platforms keep the shell quoting', () => {
    assert.equal(buildProxyCommand(['/opt/my tools/ssm-proxy'], { target: 'i-0123456789abcdef0' }, 'darwin'), '"/opt/my tools/ssm-proxy" connect i-0123456789abcdef0 %p');
  });
});
