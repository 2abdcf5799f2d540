/** The pure pieces, one by one: line reading, patterns, ProxyCommand parsing, quoting, diff, ids. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isValidTargetId } from '../../src/target-id.js';
import { configQuote, parseConfigLine } from '../../src/sshconfig/config-line.js';
import { unifiedDiff } from '../../src/sshconfig/diff.js';
import { splitLines } from '../../src/sshconfig/lines.js';
import { hostPatternsMatch, insertionPoint, matchPattern, parseConfig } from '../../src/sshconfig/locate.js';
import { buildProxyCommand, parseProxyCommand, shellSplit, shellWord } from '../../src/sshconfig/proxy-command.js';
import { ssmProxyInvocation } from '../../src/sshconfig/self-path.js';
import { checkAlias } from '../../src/sshconfig/validate.js';
import { mismatches } from '../../src/sshconfig/verify.js';

describe('parseConfigLine (OpenSSH readconf rules)', () => {
  const directive = (text: string) => {
    const p = parseConfigLine(text);
    assert.equal(p.kind, 'directive', text);
    return p as Extract<typeof p, { kind: 'directive' }>;
  };

  test('keyword separators: space, tab, =, spaces around =', () => {
    for (const text of ['User bob', 'User\tbob', 'User=bob', 'User = bob', '  user   bob  ', 'USER=  bob']) {
      const d = directive(text);
      assert.equal(d.keyword, 'user');
      assert.deepEqual(d.args.map((a) => a.value), ['bob']);
    }
  });

  test('quotes, escapes and trailing comments', () => {
    const d = directive('Host "a b" c\\ d e # comment "unbalanced');
    assert.deepEqual(d.args.map((a) => a.value), ['a b', 'c d', 'e']);
    assert.equal('Host "a b" c\\ d e # comment "unbalanced'.slice(d.argsEnd), ' # comment "unbalanced');
    const pc = directive('ProxyCommand sh -c "x \\"y\\" z"   # note');
    assert.equal(pc.rest, 'sh -c "x \\"y\\" z"   # note');
    assert.equal(directive('ProxyCommand=  = nc %h %p').rest, 'nc %h %p');
    assert.deepEqual(directive('IdentityFile a#b').args.map((a) => a.value), ['a#b']);
  });

  test('blank, comment and invalid lines', () => {
    assert.equal(parseConfigLine('').kind, 'blank');
    assert.equal(parseConfigLine(' \t \f').kind, 'blank');
    assert.equal(parseConfigLine('   # hi').kind, 'comment');
    assert.deepEqual(parseConfigLine('User "bob'), { kind: 'invalid', reason: 'unbalanced quotes' });
    assert.deepEqual(parseConfigLine("ProxyCommand sh -c 'x"), { kind: 'invalid', reason: 'unbalanced quotes' });
    assert.equal(parseConfigLine('User').kind, 'invalid');
  });

  test('configQuote quotes only when OpenSSH would split or unescape', () => {
    assert.equal(configQuote('~/.ssh/id'), '~/.ssh/id');
    assert.equal(configQuote('~/my key'), '"~/my key"');
    assert.equal(configQuote('a"b\\c'), '"a\\"b\\\\c"');
    const d = parseConfigLine(`IdentityFile ${configQuote('we"ird \\ path')}`);
    assert.equal(d.kind === 'directive' && d.args[0]!.value, 'we"ird \\ path');
  });
});

describe('Host patterns (OpenSSH match_pattern)', () => {
  test('* and ? and case', () => {
    assert.ok(matchPattern('i-0abc', 'i-*'));
    assert.ok(matchPattern('web1', 'web?'));
    assert.ok(!matchPattern('web', 'web?'), '? is exactly one character');
    assert.ok(!matchPattern('Web1', 'web?'), 'case-sensitive, like ssh');
    assert.ok(matchPattern('a.b', 'a.b'));
    assert.ok(!matchPattern('axb', 'a.b'), '. is literal');
  });
  test('negation vetoes the whole line', () => {
    assert.ok(hostPatternsMatch(['*', '!bastion'], 'web'));
    assert.ok(!hostPatternsMatch(['*', '!bastion'], 'bastion'));
    assert.ok(!hostPatternsMatch(['!bastion'], 'web'), 'only negated patterns never match');
  });
});

describe('ProxyCommand parsing', () => {
  const cases: [string, object][] = [
    [
      `sh -c "aws ssm start-session --target %h --region eu-west-2 --profile eoe-hie --document-name AWS-StartSSHSession --parameters 'portNumber=22'"`,
      { kind: 'aws-ssm', target: '%h', region: 'eu-west-2', profile: 'eoe-hie', port: 22 },
    ],
    [
      `sh -c "aws ssm start-session --target %h --document-name AWS-StartSSHSession --parameters 'portNumber=%p'"`,
      { kind: 'aws-ssm', target: '%h' },
    ],
    [
      `sh -c "aws ssm start-session --target %h --parameters \\"portNumber=%p\\" --profile=x --region=us-east-1"`,
      { kind: 'aws-ssm', target: '%h', profile: 'x', region: 'us-east-1' },
    ],
    [
      `/usr/local/bin/aws ssm start-session --target i-0123456789abcdef0 --parameters portNumber=2200`,
      { kind: 'aws-ssm', target: 'i-0123456789abcdef0', port: 2200 },
    ],
    [
      `bash -lc 'AWS_PROFILE=p AWS_DEFAULT_REGION=eu-west-1 exec aws ssm start-session --target %h'`,
      { kind: 'aws-ssm', target: '%h', profile: 'p', region: 'eu-west-1' },
    ],
    [`env AWS_REGION=ap-south-1 aws ssm start-session --target %n`, { kind: 'aws-ssm', target: '%n', region: 'ap-south-1' }],
    [
      `"/opt/ssm proxy/bin/ssm-proxy" connect i-0123456789abcdef0 %p --profile a --region eu-west-2`,
      { kind: 'ssm-proxy', target: 'i-0123456789abcdef0', profile: 'a', region: 'eu-west-2' },
    ],
    [`/usr/bin/node /home/me/ssm-proxy/lib/cli/main.js connect %h %p`, { kind: 'ssm-proxy', target: '%h' }],
    [`nc %h %p`, { kind: 'other' }],
    [`aws ssm describe-instance-information`, { kind: 'other' }],
    [`ssh -W %h:%p bastion`, { kind: 'other' }],
  ];
  for (const [command, expected] of cases) {
    test(command, () => assert.deepEqual(parseProxyCommand(command), expected));
  }

  test('the command this very program writes is recognised as ssm-proxy', () => {
    const self = ['/usr/bin/node', '/srv/tools/lib/cli/main.js'];
    const written = buildProxyCommand(self, { target: 'i-0123456789abcdef0', profile: 'p' });
    assert.equal(parseProxyCommand(written).kind, 'other', 'unknown path without the hint');
    assert.deepEqual(parseProxyCommand(written, self), { kind: 'ssm-proxy', target: 'i-0123456789abcdef0', profile: 'p' });
  });

  test('shellSplit', () => {
    assert.deepEqual(shellSplit(`a 'b c' "d \\"e\\" \\$f" g\\ h # tail`), ['a', 'b c', 'd "e" $f', 'g h']);
  });
});

describe('building the ProxyCommand', () => {
  test('plain paths stay bare; spaces, $ and quotes are double-quoted; % is doubled for ssh', () => {
    assert.equal(shellWord('/usr/local/bin/ssm-proxy'), '/usr/local/bin/ssm-proxy');
    assert.equal(shellWord('/opt/ssm proxy/ssm-proxy'), '"/opt/ssm proxy/ssm-proxy"');
    assert.equal(shellWord('/opt/$x/"q"'), '"/opt/\\$x/\\"q\\""');
    assert.equal(shellWord('/opt/100%/ssm-proxy'), '/opt/100%%/ssm-proxy');
  });
  test('flags are omitted when unknown', () => {
    assert.equal(buildProxyCommand(['/b/ssm-proxy'], { target: 'i-12345678' }), '/b/ssm-proxy connect i-12345678 %p');
    assert.equal(
      buildProxyCommand(['/n/node', '/a b/main.js'], { target: 'mi-0123456789abcdef0', profile: 'p', region: 'eu-west-2' }),
      '/n/node "/a b/main.js" connect mi-0123456789abcdef0 %p --profile p --region eu-west-2',
    );
  });
});

describe('self path', () => {
  const base = { argv: ['/usr/bin/node', '/nonexistent/lib/cli/main.js'], env: {}, packaged: false };
  test('node in development: node plus the script', () => {
    assert.deepEqual(ssmProxyInvocation({ ...base, execPath: '/usr/bin/node' }), ['/usr/bin/node', '/nonexistent/lib/cli/main.js']);
    assert.deepEqual(ssmProxyInvocation({ ...base, execPath: '/usr/bin/nodejs' }), ['/usr/bin/nodejs', '/nonexistent/lib/cli/main.js']);
  });
  test('packaged binary: itself', () => {
    assert.deepEqual(ssmProxyInvocation({ ...base, execPath: '/usr/local/bin/node', packaged: true }), ['/usr/local/bin/node']);
    assert.deepEqual(ssmProxyInvocation({ ...base, execPath: '/usr/local/bin/ssm-proxy' }), ['/usr/local/bin/ssm-proxy']);
  });
  test('SSM_PROXY_SELF wins', () => {
    assert.deepEqual(ssmProxyInvocation({ ...base, execPath: '/usr/bin/node', env: { SSM_PROXY_SELF: '/x/y' } }), ['/x/y']);
  });
});

describe('target ids and aliases', () => {
  test('valid and invalid target ids', () => {
    for (const id of ['i-0123abcd', 'i-0123456789abcdef0', 'mi-0123456789abcdef0']) assert.ok(isValidTargetId(id), id);
    for (const id of ['i-0123abc', 'i-0123456789abcdef', 'I-0123abcd', 'i-0123ABCD', 'mi-0123abcd', 'i-0123abcdz', ' i-0123abcd', '%h']) {
      assert.ok(!isValidTargetId(id), id);
    }
  });
  test('aliases with wildcards or shell/ssh syntax are refused', () => {
    for (const alias of ['web*', 'w?b', '!web', 'a,b', 'a b', '-oProxyCommand=x', 'user@host', '"q"', 'a%h', '']) {
      assert.throws(() => checkAlias(alias), { name: 'SsmProxyError' }, alias);
    }
    for (const alias of ['jumphost-ssm', 'i-0123456789abcdef0', 'db.prod', 'x_1']) checkAlias(alias);
  });
});

describe('unified diff', () => {
  test('3 lines of context, no-newline marker', () => {
    const a = splitLines(Buffer.from('1\n2\n3\n4\n5\n6\n7\n8'));
    const b = splitLines(Buffer.from('1\n2\n3\n4\nfive\n6\n7\n8\n'));
    assert.equal(
      unifiedDiff(a, b, 'a', 'b'),
      '--- a\n+++ b\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n-8\n\\ No newline at end of file\n+8\n',
    );
    assert.equal(unifiedDiff(a, a, 'a', 'b'), '');
  });
});

describe('ssh -G comparison', () => {
  test('reports each differing field', () => {
    const shown = new Map([
      ['hostname', ['i-0123abcd']],
      ['proxycommand', ['nc %h %p']],
      ['user', ['root']],
      ['port', ['22']],
    ]);
    assert.deepEqual(mismatches(shown, { hostname: 'i-0123abcd', proxycommand: 'x', user: 'root', port: 2222 }), [
      "proxycommand is 'nc %h %p', not 'x'",
      "port is '22', not '2222'",
    ]);
    assert.deepEqual(mismatches(new Map(), { hostname: 'h', proxycommand: 'p' }), ["hostname is not set, not 'h'", "proxycommand is not set, not 'p'"]);
  });
});

describe('where a new block goes', () => {
  const at = (text: string, alias: string) => insertionPoint(parseConfig(splitLines(Buffer.from(text)), 'test'), alias);
  test('before the first section that may apply, with its header comments, not its neighbour\'s commented-out lines', () => {
    assert.equal(at('Host web\n    HostName w\n    #User old\n# defaults\nHost *\n    User x\n', 'box'), 3);
    assert.equal(at('Host web\n    HostName w\n\nMatch exec "true"\n    User x\n', 'box'), 3, 'any Match may apply');
    assert.equal(at('Host * !box\n    User x\nHost web\n', 'box'), 3, 'negated: does not apply, so at the end');
    assert.equal(at('User x\nHost bo?\n', 'box'), 1, 'after global lines, before the wildcard');
  });
});
