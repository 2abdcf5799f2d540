import { parseJsonObject } from './acknowledge.js';
import { ok, protocolError, type Result } from './protocol-error.js';

/**
 * Payloads of KMS encryption (docs/protocol.md §15.2): the KMSEncryption handshake action's
 * parameters and result, and the encryption challenge (PayloadTypes 8 and 9). Go marshals
 * []byte fields as standard base64 with padding.
 */

/** ActionParameters of a KMSEncryption action. */
export interface KmsEncryptionRequest {
  kmsKeyId: string;
  /** base64 of 16 random bytes; empty from agents that predate the random challenge. */
  challenge: string;
}

/** ActionResult of a processed KMSEncryption action. */
export interface KmsEncryptionResult {
  cipherTextKey: Buffer;
  /** true when the GenerateDataKey context carried aws:ssm:RandomChallenge. */
  challengeAcknowledgement: boolean;
}

export const ENCRYPTION_CONTEXT_SESSION_ID = 'aws:ssm:SessionId';
export const ENCRYPTION_CONTEXT_TARGET_ID = 'aws:ssm:TargetId';
export const ENCRYPTION_CONTEXT_CHALLENGE = 'aws:ssm:RandomChallenge';
/** Bytes of the KMS data key: two AES-256 keys, one per direction (docs/protocol.md §15.3). */
export const KMS_DATA_KEY_BYTES = 64;

export function readKmsEncryptionRequest(parameters: unknown): Result<KmsEncryptionRequest> {
  if (parameters === null || typeof parameters !== 'object' || Array.isArray(parameters)) {
    return protocolError('BAD_PAYLOAD', 'KMSEncryption action has no parameters object');
  }
  const { KMSKeyId, Challenge } = parameters as Record<string, unknown>;
  if (typeof KMSKeyId !== 'string' || KMSKeyId === '') return protocolError('BAD_PAYLOAD', 'KMSEncryption action names no KMSKeyId');
  return ok({ kmsKeyId: KMSKeyId, challenge: typeof Challenge === 'string' ? Challenge : '' });
}

/** The KMSEncryption ActionParameters object (the fake agent builds its request with it). */
export function kmsEncryptionParameters(request: KmsEncryptionRequest): Record<string, string> {
  return { KMSKeyId: request.kmsKeyId, Challenge: request.challenge };
}

/** The ActionResult object, in Go's field order. */
export function kmsEncryptionResult(result: KmsEncryptionResult): Record<string, unknown> {
  return {
    KMSCipherTextKey: result.cipherTextKey.toString('base64'),
    KMSCipherTextHash: null,
    ChallengeAcknowledgement: result.challengeAcknowledgement,
  };
}

export function readKmsEncryptionResult(actionResult: unknown): Result<KmsEncryptionResult> {
  if (actionResult === null || typeof actionResult !== 'object' || Array.isArray(actionResult)) {
    return protocolError('BAD_PAYLOAD', 'KMSEncryption result is not an object');
  }
  const { KMSCipherTextKey, ChallengeAcknowledgement } = actionResult as Record<string, unknown>;
  const cipherTextKey = typeof KMSCipherTextKey === 'string' ? decodeBase64(KMSCipherTextKey) : undefined;
  if (!cipherTextKey || cipherTextKey.length === 0) return protocolError('BAD_PAYLOAD', 'KMSEncryption result has no KMSCipherTextKey');
  return ok({ cipherTextKey, challengeAcknowledgement: ChallengeAcknowledgement === true });
}

/** EncChallengeRequest (8) and EncChallengeResponse (9) share one shape: `{"Challenge": base64}`. */
export function encodeEncryptionChallenge(challenge: Buffer): Buffer {
  return Buffer.from(JSON.stringify({ Challenge: challenge.toString('base64') }), 'utf8');
}

export function decodeEncryptionChallenge(payload: Buffer): Result<Buffer> {
  const json = parseJsonObject(payload);
  const challenge = typeof json?.Challenge === 'string' ? decodeBase64(json.Challenge) : undefined;
  if (!challenge || challenge.length === 0) return protocolError('BAD_PAYLOAD', 'encryption challenge has no base64 Challenge');
  return ok(challenge);
}

/** Strict standard base64 (Go's encoding), so garbage is refused rather than half-decoded. */
function decodeBase64(text: string): Buffer | undefined {
  if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return undefined;
  return Buffer.from(text, 'base64');
}
