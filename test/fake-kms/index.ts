/**
 * A fake of AWS KMS for session encryption (docs/protocol.md §15): GenerateDataKey for the client
 * and Decrypt for the fake agent, on one loopback port, answering @aws-sdk/client-kms the way
 * KMS does (JSON 1.1, `X-Amz-Target: TrentService.<Operation>`, blobs as base64, errors as
 * HTTP 400 `{"__type","message"}`). Reach it with AWS_ENDPOINT_URL_KMS=`endpointUrl`.
 *
 * Ciphertext blobs are sealed with the key's own secret and the encryption context as AAD, so a
 * Decrypt with a different context fails as it does on KMS (InvalidCiphertextException).
 */
import { createCipheriv, createDecipheriv, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { parseAuthorization } from '../fake-ssm/sigv4-check.js';

export interface FakeKmsOptions {
  region?: string;
  accountId?: string;
  /** Answer GenerateDataKey with AccessDeniedException (the caller lacks kms:GenerateDataKey). */
  denyGenerateDataKey?: boolean;
  /** Answer Decrypt with AccessDeniedException (the instance role lacks kms:Decrypt). */
  denyDecrypt?: boolean;
}

export interface KmsCallRecord {
  operation: 'GenerateDataKey' | 'Decrypt' | 'Unknown';
  /** 'http' from a client over the API, 'agent' from the fake agent in-process. */
  via: 'http' | 'agent';
  keyId?: string;
  numberOfBytes?: number;
  encryptionContext?: Record<string, string>;
  credentialService?: string;
  credentialRegion?: string;
  accessKeyId?: string;
  status: number;
  errorType?: string;
}

export class KmsFailure extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

export interface FakeKms {
  endpointUrl: string;
  /** The one key: its id, ARN and an alias all name it. */
  keyId: string;
  keyArn: string;
  alias: string;
  options: Required<FakeKmsOptions>;
  calls: KmsCallRecord[];
  /** What the fake agent calls: KMS Decrypt with its own (instance role) credentials. */
  decrypt(cipherTextBlob: Buffer, encryptionContext: Record<string, string>, keyId: string): Buffer;
  close(): Promise<void>;
}

const JSON_1_1 = 'application/x-amz-json-1.1';
const BLOB_MAGIC = Buffer.from('fakekms1');

export async function startFakeKms(input: FakeKmsOptions = {}): Promise<FakeKms> {
  const options: Required<FakeKmsOptions> = { region: 'us-east-1', accountId: '123456789012', denyGenerateDataKey: false, denyDecrypt: false, ...input };
  const keyId = randomUUID();
  const keyArn = `arn:aws:kms:${options.region}:${options.accountId}:key/${keyId}`;
  const alias = 'alias/ssm-sessions';
  const secret = randomBytes(32);
  const calls: KmsCallRecord[] = [];

  const resolveKey = (name: string | undefined): boolean =>
    name === keyId || name === keyArn || name === alias || name === `arn:aws:kms:${options.region}:${options.accountId}:${alias}`;
  const denied = (action: string) =>
    new KmsFailure(
      'AccessDeniedException',
      `User: arn:aws:sts::${options.accountId}:assumed-role/ssm-proxy-test/session is not authorized to perform: ${action} ` +
        `on resource: ${keyArn} because no identity-based policy allows the ${action} action`,
    );

  function generateDataKey(request: Record<string, unknown>, record: KmsCallRecord): Record<string, unknown> {
    const context = readContext(request.EncryptionContext);
    const bytes = request.NumberOfBytes;
    record.keyId = typeof request.KeyId === 'string' ? request.KeyId : undefined;
    record.numberOfBytes = typeof bytes === 'number' ? bytes : undefined;
    record.encryptionContext = context;
    if (!resolveKey(record.keyId)) throw new KmsFailure('NotFoundException', `Key '${record.keyId}' does not exist`);
    if (options.denyGenerateDataKey) throw denied('kms:GenerateDataKey');
    if (typeof bytes !== 'number' || !Number.isInteger(bytes) || bytes < 1 || bytes > 1024) {
      throw new KmsFailure('ValidationException', '1 validation error detected: Value at \'numberOfBytes\' failed to satisfy constraint');
    }
    const plaintext = randomBytes(bytes);
    return { KeyId: keyArn, Plaintext: plaintext.toString('base64'), CiphertextBlob: seal(plaintext, context ?? {}).toString('base64') };
  }

  function decrypt(blob: Buffer, context: Record<string, string>, requestedKey: string | undefined, record: KmsCallRecord): Buffer {
    record.keyId = requestedKey;
    record.encryptionContext = context;
    if (requestedKey !== undefined && !resolveKey(requestedKey)) {
      throw new KmsFailure('IncorrectKeyException', 'The key ID in the request does not identify a CMK that can perform this operation.');
    }
    if (options.denyDecrypt) throw denied('kms:Decrypt');
    const plaintext = open(blob, context);
    if (!plaintext) throw new KmsFailure('InvalidCiphertextException', '');
    return plaintext;
  }

  function seal(plaintext: Buffer, context: Record<string, string>): Buffer {
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', secret, nonce);
    cipher.setAAD(canonical(context));
    return Buffer.concat([BLOB_MAGIC, nonce, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  }

  function open(blob: Buffer, context: Record<string, string>): Buffer | undefined {
    if (blob.length < BLOB_MAGIC.length + 28 || !blob.subarray(0, BLOB_MAGIC.length).equals(BLOB_MAGIC)) return undefined;
    const body = blob.subarray(BLOB_MAGIC.length);
    try {
      const decipher = createDecipheriv('aes-256-gcm', secret, body.subarray(0, 12));
      decipher.setAAD(canonical(context));
      decipher.setAuthTag(body.subarray(body.length - 16));
      return Buffer.concat([decipher.update(body.subarray(12, body.length - 16)), decipher.final()]);
    } catch {
      return undefined;
    }
  }

  const handle = (request: IncomingMessage, response: ServerResponse, body: Buffer): void => {
    const target = String(request.headers['x-amz-target'] ?? '');
    const operation = /^TrentService\.(GenerateDataKey|Decrypt)$/.exec(target)?.[1] as KmsCallRecord['operation'] | undefined;
    const auth = parseAuthorization(request.headers.authorization);
    const record: KmsCallRecord = {
      operation: operation ?? 'Unknown',
      via: 'http',
      credentialService: auth?.service,
      credentialRegion: auth?.region,
      accessKeyId: auth?.accessKeyId,
      status: 200,
    };
    calls.push(record);
    const reply = (status: number, payload: Record<string, unknown>) => {
      record.status = status;
      const text = Buffer.from(JSON.stringify(payload));
      response.writeHead(status, { 'Content-Type': JSON_1_1, 'Content-Length': text.length, 'x-amzn-RequestId': randomUUID() });
      response.end(text);
    };
    const fail = (failure: KmsFailure) => {
      record.errorType = failure.type;
      reply(400, { __type: failure.type, message: failure.message });
    };
    if (!auth || auth.service !== 'kms') return fail(new KmsFailure('MissingAuthenticationTokenException', 'Missing Authentication Token'));
    if (auth.region !== options.region) return fail(new KmsFailure('InvalidSignatureException', 'Credential should be scoped to a valid region.'));
    let input: Record<string, unknown>;
    try {
      input = JSON.parse(body.toString('utf8') || '{}') as Record<string, unknown>;
    } catch {
      return fail(new KmsFailure('SerializationException', 'Start of structure or map found where not expected.'));
    }
    try {
      if (operation === 'GenerateDataKey') return reply(200, generateDataKey(input, record));
      if (operation === 'Decrypt') {
        const blob = Buffer.from(typeof input.CiphertextBlob === 'string' ? input.CiphertextBlob : '', 'base64');
        const plaintext = decrypt(blob, readContext(input.EncryptionContext) ?? {}, typeof input.KeyId === 'string' ? input.KeyId : undefined, record);
        return reply(200, { KeyId: keyArn, Plaintext: plaintext.toString('base64') });
      }
      return fail(new KmsFailure('UnknownOperationException', ''));
    } catch (error) {
      return fail(error as KmsFailure);
    }
  };

  const sockets = new Set<Socket>();
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => handle(request, response, Buffer.concat(chunks)));
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  let closed: Promise<void> | undefined;
  return {
    endpointUrl: `http://127.0.0.1:${port}`,
    keyId,
    keyArn,
    alias,
    options,
    calls,
    decrypt(blob, context, requestedKey) {
      const record: KmsCallRecord = { operation: 'Decrypt', via: 'agent', status: 200 };
      calls.push(record);
      try {
        return decrypt(blob, context, requestedKey, record);
      } catch (error) {
        record.status = 400;
        record.errorType = (error as KmsFailure).type;
        throw error;
      }
    },
    close: () =>
      (closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      })),
  };
}

function readContext(value: unknown): Record<string, string> | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const context: Record<string, string> = {};
  for (const [key, entry] of Object.entries(value as Record<string, unknown>)) context[key] = String(entry);
  return context;
}

/** The context as KMS binds it: order-independent. */
function canonical(context: Record<string, string>): Buffer {
  return Buffer.from(JSON.stringify(Object.keys(context).sort().map((key) => [key, context[key]])));
}
