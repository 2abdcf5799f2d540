/**
 * A ProxyCommand written for the AWS CLI, with `aws ssm start-session` replaced by
 * `ssm-proxy start-session`, carries a real ssh session into a real sshd through the fake.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { describeRun, REGION, REPO_ROOT, shellQuote, startHarness, type Harness } from '../e2e/harness.js';

let h: Harness;

before(async () => {
  const ssmProxy = [process.execPath, join(REPO_ROOT, 'lib', 'cli', 'main.js')].map((word) => shellQuote(word).replace(/%/g, '%%')).join(' ');
  h = await startHarness({
    // The AWS CLI's documented line, word for word after the program name (%h/%p from ssh).
    proxyCommand: `sh -c "${ssmProxy} start-session --target %h --document-name AWS-StartSSHSession --parameters 'portNumber=%p' --region ${REGION}"`,
  });
});
after(() => h?.stop());

test('ssh through `ssm-proxy start-session --document-name AWS-StartSSHSession --parameters portNumber=%p`', async () => {
  // The fake's address is known only now: the SDK's own endpoint variable carries it.
  const result = await h.runSsh(h.alias, 'echo "via start-session $((6*7))"', { env: { AWS_ENDPOINT_URL_SSM: h.fake.endpointUrl } });
  assert.equal(result.code, 0, describeRun(result));
  assert.equal(result.stdout.toString(), 'via start-session 42\n');
  const call = h.fake.records.apiCalls.find((record) => record.operation === 'StartSession')!;
  assert.equal(call.documentName, 'AWS-StartSSHSession');
  assert.deepEqual(call.parameters, { portNumber: [String(h.sshd.port)] });
});
