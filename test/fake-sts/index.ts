/**
 * A fake of STS GetCallerIdentity on one loopback port, answering @aws-sdk/client-sts the way
 * AWS does (Query protocol: a form-encoded POST with Action=GetCallerIdentity, an XML answer).
 * Reach it with AWS_ENDPOINT_URL_STS=`url`. The ARN is chosen by the signing access key id.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { parseAuthorization, verifySignature } from '../fake-ssm/sigv4-check.js';

export interface FakeStsOptions {
  /** ARN by access key id; others get `defaultArn`. */
  identities?: Record<string, string>;
  defaultArn?: string;
  /** Answer every call with this error (HTTP 403), e.g. InvalidClientTokenId or ExpiredToken. */
  error?: { code: string; message: string };
  /**
   * Secret access keys by access key id: when given, every call's SigV4 signature is verified as
   * AWS does (docs/protocol.md §3.3), and a key not listed is refused as InvalidClientTokenId.
   */
  secrets?: Record<string, string>;
}

export interface FakeSts {
  url: string;
  options: FakeStsOptions;
  calls: {
    action: string;
    accessKeyId: string | undefined;
    service: string | undefined;
    status: number;
    /** undefined unless `secrets` was given. */
    signatureOk?: boolean;
  }[];
  close(): Promise<void>;
}

export async function startFakeSts(options: FakeStsOptions = {}): Promise<FakeSts> {
  const calls: FakeSts['calls'] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const raw = Buffer.concat(chunks);
      const form = new URLSearchParams(raw.toString('utf8'));
      const auth = parseAuthorization(request.headers.authorization);
      const call: FakeSts['calls'][number] = { action: form.get('Action') ?? '', accessKeyId: auth?.accessKeyId, service: auth?.service, status: 200 };
      calls.push(call);
      const requestId = randomUUID();
      const reply = (status: number, xml: string) => {
        call.status = status;
        response.writeHead(status, { 'Content-Type': 'text/xml', 'x-amzn-RequestId': requestId, 'Content-Length': Buffer.byteLength(xml) });
        response.end(xml);
      };
      const error = (status: number, code: string, message: string) =>
        reply(
          status,
          `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>${code}</Code>` +
            `<Message>${message}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
        );
      if (!auth || auth.service !== 'sts') return error(403, 'IncompleteSignature', 'Request must be signed for sts');
      const secrets = options.secrets;
      if (secrets) {
        const verified = verifySignature(
          { method: request.method ?? 'POST', url: request.url ?? '/', rawHeaders: request.rawHeaders, body: raw },
          { secretFor: (id) => secrets[id], service: 'sts', region: auth.region },
        );
        call.signatureOk = verified.ok;
        if (!verified.ok) {
          if (verified.fault === 'unknown-key') return error(403, 'InvalidClientTokenId', 'The security token included in the request is invalid.');
          if (verified.fault === 'expired') return error(403, 'SignatureDoesNotMatch', `Signature expired: ${verified.reason}`);
          return error(
            403,
            'SignatureDoesNotMatch',
            'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.',
          );
        }
      }
      if (options.error) return error(403, options.error.code, options.error.message);
      if (call.action !== 'GetCallerIdentity') return error(400, 'InvalidAction', `Could not find operation ${call.action}`);
      const arn = (auth.accessKeyId && options.identities?.[auth.accessKeyId]) || options.defaultArn || 'arn:aws:iam::123456789012:user/ssm-proxy-test';
      const account = /^arn:aws:(?:sts|iam)::(\d{12}):/.exec(arn)?.[1] ?? '123456789012';
      reply(
        200,
        `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>` +
          `<Arn>${arn}</Arn><UserId>AIDAFAKEUSERID:${auth.accessKeyId ?? ''}</UserId><Account>${account}</Account>` +
          `</GetCallerIdentityResult><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></GetCallerIdentityResponse>`,
      );
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    options,
    calls,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
