/**
 * A throwaway CA and a server certificate for 127.0.0.1 / localhost, made with the openssl CLI
 * (Debian package openssl) in a temp dir. Nothing here is trusted by the system.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TestCerts {
  dir: string;
  /** The CA certificate (PEM file path): what --ca-bundle / AWS_CA_BUNDLE point at. */
  caPath: string;
  /** Another CA that did not sign the server certificate. */
  otherCaPath: string;
  key: Buffer;
  cert: Buffer;
  remove(): Promise<void>;
}

export async function makeTestCerts(): Promise<TestCerts> {
  const dir = await mkdtemp(join(tmpdir(), 'ssm-proxy-certs-'));
  const at = (name: string) => join(dir, name);
  const openssl = (args: string[]) => run('openssl', args, { cwd: dir, timeout: 30_000 });
  const ca = ['-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'];
  await openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', at('ca.key'), '-out', at('ca.pem'), '-days', '2', '-subj', '/CN=ssm-proxy test CA', ...ca]);
  await openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', at('other.key'), '-out', at('other.pem'), '-days', '2', '-subj', '/CN=ssm-proxy other CA', ...ca]);
  await openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', at('server.key'), '-out', at('server.csr'), '-subj', '/CN=localhost']);
  await writeFile(at('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n');
  await openssl(['x509', '-req', '-in', at('server.csr'), '-CA', at('ca.pem'), '-CAkey', at('ca.key'), '-CAcreateserial', '-out', at('server.pem'), '-days', '2', '-extfile', at('server.ext')]);
  return {
    dir,
    caPath: at('ca.pem'),
    otherCaPath: at('other.pem'),
    key: await readFile(at('server.key')),
    cert: await readFile(at('server.pem')),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
