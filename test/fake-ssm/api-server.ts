/**
 * The SSM JSON 1.1 API (docs/protocol.md §2.1): POST / with X-Amz-Target AmazonSSM.<Operation>,
 * SigV4-verified like AWS when `verifySignature` names the known credentials. Answers the way
 * the AWS endpoint does for @aws-sdk/client-ssm: application/x-amz-json-1.1 bodies, an
 * x-amzn-RequestId header on every answer, and errors as HTTP 400 `{"__type","message"}`.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ResolvedFakeSsmOptions, ApiErrorType } from './options.js';
import type { ApiCallRecord, ApiOperation, FakeSsmRecords } from './records.js';
import { parseAuthorization, verifySignature, type SignatureFault } from './sigv4-check.js';
import { cellNumber, type SessionEntry, type SessionStore } from './session-store.js';
import { isShellDocument } from './shell-agent-session.js';

const JSON_1_1 = 'application/x-amz-json-1.1';
const MAX_BODY = 1 << 20;
/** Documents whose session type is Port (§2.2); the fake agent only speaks Port. */
const PORT_DOCUMENTS = new Set([
  'AWS-StartSSHSession',
  'AWS-StartPortForwardingSession',
  'AWS-StartPortForwardingSessionToRemoteHost',
]);

export interface ApiContext {
  options: ResolvedFakeSsmOptions;
  records: FakeSsmRecords;
  store: SessionStore;
  /** ws://127.0.0.1:<port>, known once the server listens. */
  dataChannelBase(): string;
  /** Ends a live session on TerminateSession (channel_closed + close on its socket). */
  terminate(entry: SessionEntry): void;
}

interface ApiError {
  status: number;
  type: string;
  message: string;
}

type Outcome = { body: Record<string, unknown> } | { error: ApiError };

export function createApiHandler(context: ApiContext) {
  return (request: IncomingMessage, response: ServerResponse): void => {
    readBody(request).then(
      (body) => answer(context, request, response, body),
      () => send(response, { error: { status: 413, type: 'SerializationException', message: 'Request body too large' } }),
    );
  };
}

function answer(context: ApiContext, request: IncomingMessage, response: ServerResponse, body: Buffer): void {
  const amzTarget = String(request.headers['x-amz-target'] ?? '');
  const auth = parseAuthorization(request.headers.authorization);
  const record: ApiCallRecord = {
    operation: operationOf(amzTarget),
    amzTarget,
    contentType: String(request.headers['content-type'] ?? ''),
    authorization: /^AWS4-HMAC-SHA256 /.test(request.headers.authorization ?? ''),
    credentialService: auth?.service,
    credentialRegion: auth?.region,
    accessKeyId: auth?.accessKeyId,
    status: 0,
  };
  context.records.apiCalls.push(record);
  const outcome = decide(context, request, body, record);
  record.status = 'error' in outcome ? outcome.error.status : 200;
  if ('error' in outcome) record.errorType = outcome.error.type;
  send(response, outcome);
}

function decide(context: ApiContext, request: IncomingMessage, raw: Buffer, record: ApiCallRecord): Outcome {
  if (request.method !== 'POST' || (request.url ?? '/').split('?')[0] !== '/') {
    return fail(404, 'UnknownOperationException', 'Not Found');
  }
  if (!record.authorization) return fail(400, 'MissingAuthenticationTokenException', 'Missing Authentication Token');
  if (!record.credentialService) return fail(400, 'IncompleteSignatureException', 'Authorization header requires Credential, SignedHeaders and Signature.');
  if (record.credentialService !== 'ssm') {
    return fail(400, 'InvalidSignatureException', "Credential should be scoped to correct service: 'ssm'.");
  }
  if (record.credentialRegion !== context.options.region) {
    return fail(400, 'InvalidSignatureException', `Credential should be scoped to a valid region. `);
  }
  const known = context.options.verifySignature;
  if (known) {
    const result = verifySignature(
      { method: request.method ?? 'POST', url: request.url ?? '/', rawHeaders: request.rawHeaders, body: raw },
      {
        secretFor: (accessKeyId) => (accessKeyId === known.accessKeyId ? known.secretAccessKey : undefined),
        service: 'ssm',
        region: context.options.region,
      },
    );
    record.signatureOk = result.ok;
    if (!result.ok) return signatureFailure(result.fault, result.reason);
  }
  if (!record.contentType.startsWith(JSON_1_1)) return fail(400, 'UnknownOperationException', '');
  let input: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(raw.length ? raw.toString('utf8') : '{}');
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
    input = parsed as Record<string, unknown>;
  } catch {
    return fail(400, 'SerializationException', 'Start of structure or map found where not expected.');
  }
  switch (record.operation) {
    case 'StartSession':
      return startSession(context, input, record);
    case 'ResumeSession':
      return resumeSession(context, input, record);
    case 'TerminateSession':
      return terminateSession(context, input, record);
    default:
      return fail(400, 'UnknownOperationException', '');
  }
}

function startSession(context: ApiContext, input: Record<string, unknown>, record: ApiCallRecord): Outcome {
  const { options, store } = context;
  const target = typeof input.Target === 'string' ? input.Target : undefined;
  const documentName = typeof input.DocumentName === 'string' ? input.DocumentName : 'SSM-SessionManagerRunShell';
  const parameters = readParameters(input.Parameters);
  record.target = target;
  record.documentName = documentName;
  record.parameters = parameters;
  if (typeof input.Reason === 'string') record.reason = input.Reason;
  if (!target) {
    return fail(400, 'ValidationException', "1 validation error detected: Value null at 'target' failed to satisfy constraint: Member must not be null");
  }
  if (options.startSessionError) return knobError(options, options.startSessionError, target, documentName);
  if (!PORT_DOCUMENTS.has(documentName) && !isShellDocument(documentName)) return knobError(options, 'InvalidDocument', target, documentName);
  const portText = parameters.portNumber?.[0] ?? '22';
  const portNumber = Number(portText);
  if (!/^\d{1,5}$/.test(portText) || portNumber < 1 || portNumber > 65535) {
    return fail(400, 'InvalidParameters', `Parameter "portNumber" "${portText}" is not valid.`);
  }
  const { entry, token } = store.create({ target, documentName, parameters, portNumber });
  record.sessionId = entry.sessionId;
  return { body: sessionAnswer(context, entry, token) };
}

function resumeSession(context: ApiContext, input: Record<string, unknown>, record: ApiCallRecord): Outcome {
  const { options, store } = context;
  const sessionId = typeof input.SessionId === 'string' ? input.SessionId : '';
  record.sessionId = sessionId;
  if (options.denyResumeSession) {
    return fail(400, 'AccessDeniedException', notAuthorized(options, 'ssm:ResumeSession', sessionArn(options, sessionId)));
  }
  const entry = store.get(sessionId);
  if (!entry) return fail(400, 'DoesNotExistException', `Session Id ${sessionId} does not exist.`);
  // A terminated session cannot be resumed: AWS answers with the id and no token (§2.1, §11.2).
  if (entry.terminated) return { body: { SessionId: entry.sessionId } };
  return { body: sessionAnswer(context, entry, store.issueToken(entry)) };
}

function terminateSession(context: ApiContext, input: Record<string, unknown>, record: ApiCallRecord): Outcome {
  const sessionId = typeof input.SessionId === 'string' ? input.SessionId : '';
  record.sessionId = sessionId;
  const entry = context.store.get(sessionId);
  // Terminating an unknown or already terminated session succeeds, as the real API does.
  if (entry && !entry.terminated) context.terminate(entry);
  return { body: { SessionId: sessionId } };
}

function sessionAnswer(context: ApiContext, entry: SessionEntry, token: string): Record<string, unknown> {
  const streamUrl =
    `${context.dataChannelBase()}/v1/data-channel/${entry.sessionId}` +
    `?role=publish_subscribe&cell-number=${cellNumber()}`;
  return { SessionId: entry.sessionId, TokenValue: token, StreamUrl: streamUrl };
}

function knobError(options: ResolvedFakeSsmOptions, type: ApiErrorType, target: string, documentName: string): Outcome {
  switch (type) {
    case 'AccessDeniedException':
      return fail(
        400,
        type,
        notAuthorized(options, 'ssm:StartSession', `arn:aws:ec2:${options.region}:${options.accountId}:instance/${target}`),
      );
    case 'InvalidDocument':
      return fail(400, type, `Document with name ${documentName} does not exist.`);
    case 'TargetNotConnected':
      return fail(400, type, `${target} is not connected.`);
    case 'DoesNotExistException':
      return fail(400, type, `Target ${target} does not exist.`);
  }
}

function notAuthorized(options: ResolvedFakeSsmOptions, action: string, resource: string): string {
  return (
    `User: arn:aws:sts::${options.accountId}:assumed-role/ssm-proxy-test/session is not authorized to perform: ` +
    `${action} on resource: ${resource} because no identity-based policy allows the ${action} action`
  );
}

function sessionArn(options: ResolvedFakeSsmOptions, sessionId: string): string {
  return `arn:aws:ssm:${options.region}:${options.accountId}:session/${sessionId}`;
}

function readParameters(value: unknown): Record<string, string[]> {
  const parameters: Record<string, string[]> = {};
  if (value === null || typeof value !== 'object') return parameters;
  for (const [key, list] of Object.entries(value as Record<string, unknown>)) {
    if (Array.isArray(list)) parameters[key] = list.map(String);
  }
  return parameters;
}

function operationOf(amzTarget: string): ApiOperation {
  const match = /^AmazonSSM\.(StartSession|ResumeSession|TerminateSession)$/.exec(amzTarget);
  return match ? (match[1] as ApiOperation) : 'Unknown';
}

/** AWS's answers to a bad signature on a JSON 1.1 API (docs/protocol.md §3.3). */
function signatureFailure(fault: SignatureFault, reason: string): Outcome {
  switch (fault) {
    case 'unknown-key':
      return fail(400, 'UnrecognizedClientException', 'The security token included in the request is invalid.');
    case 'incomplete':
      return fail(400, 'IncompleteSignatureException', 'Authorization header requires Credential, SignedHeaders and Signature.');
    case 'expired':
      return fail(400, 'InvalidSignatureException', `Signature expired: ${reason}`);
    case 'host-unsigned':
      return fail(400, 'InvalidSignatureException', "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
    default:
      return fail(
        400,
        'InvalidSignatureException',
        'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. ' +
          `Consult the service documentation for details. (${reason})`,
      );
  }
}

function fail(status: number, type: string, message: string): Outcome {
  return { error: { status, type, message } };
}

function send(response: ServerResponse, outcome: Outcome): void {
  const status = 'error' in outcome ? outcome.error.status : 200;
  const payload =
    'error' in outcome ? { __type: outcome.error.type, message: outcome.error.message } : outcome.body;
  const body = Buffer.from(JSON.stringify(payload), 'utf8');
  response.writeHead(status, {
    'x-amzn-RequestId': randomUUID(),
    'Content-Type': JSON_1_1,
    'Content-Length': body.length,
    Date: new Date().toUTCString(),
  });
  response.end(body);
}

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(new Error('body too large'));
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}
