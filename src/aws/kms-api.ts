import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { SsmProxyError } from '../errors.js';
import { requestHandlerOptions, type NetworkAgents } from '../network/network-agents.js';
import { describeAwsError } from './aws-errors.js';

export interface DataKey {
  /** Goes back to the agent in the handshake (KMSCipherTextKey). */
  cipherTextBlob: Uint8Array;
  /** The secret: never log it; wipe it once the cipher has its copy. */
  plaintext: Uint8Array;
}

export interface KmsApi {
  /** kms:GenerateDataKey for the session (docs/protocol.md §15.2). */
  generateDataKey(request: { keyId: string; numberOfBytes: number; encryptionContext: Record<string, string> }): Promise<DataKey>;
}

export interface KmsApiOptions {
  region: string;
  profile: string | undefined;
  /** Who signs, for AccessDenied messages (AwsTarget.identity). */
  identity?: string;
  credentials: AwsCredentialIdentityProvider;
  /** An explicit endpoint; AWS_ENDPOINT_URL_KMS and AWS_ENDPOINT_URL are read by the SDK itself. */
  endpoint?: string;
  /** Proxy / CA agents shared with every other AWS call (network-agents.ts). */
  agents?: NetworkAgents | undefined;
}

/** KMS through @aws-sdk/client-kms, loaded only when a session asks for encryption. */
export async function createKmsApi(options: KmsApiOptions): Promise<KmsApi> {
  const { KMSClient, GenerateDataKeyCommand } = await import('@aws-sdk/client-kms');
  const client = new KMSClient({
    region: options.region,
    credentials: options.credentials,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    requestHandler: requestHandlerOptions(options.agents),
    maxAttempts: 3,
  });
  return {
    async generateDataKey({ keyId, numberOfBytes, encryptionContext }) {
      let output;
      try {
        output = await client.send(
          new GenerateDataKeyCommand({ KeyId: keyId, NumberOfBytes: numberOfBytes, EncryptionContext: encryptionContext }),
        );
      } catch (error) {
        throw describeKmsError(error, keyId, options);
      }
      if (!output.CiphertextBlob?.length || output.Plaintext?.length !== numberOfBytes) {
        throw new SsmProxyError('protocol', `KMS GenerateDataKey for key ${keyId} answered without a ${numberOfBytes}-byte data key`);
      }
      return { cipherTextBlob: output.CiphertextBlob, plaintext: output.Plaintext };
    },
  };
}

/** One line naming the key, the permission and who signed; AWS's own text is kept. */
export function describeKmsError(error: unknown, keyId: string, options: Pick<KmsApiOptions, 'profile' | 'identity'>): SsmProxyError {
  const name = (error as { name?: string } | undefined)?.name ?? '';
  const message = ((error as { message?: string } | undefined)?.message ?? String(error)).replace(/\s+/g, ' ').trim();
  const who = options.identity ?? (options.profile ? `profile '${options.profile}'` : 'the default credentials');
  if (name === 'NotFoundException') {
    return new SsmProxyError('config', `KMS key ${keyId} for the session's encryption was not found (${message}); check the KMS key in the Session Manager preferences and the region`);
  }
  if (name === 'DisabledException' || name === 'KMSInvalidStateException' || name === 'InvalidKeyUsageException') {
    return new SsmProxyError('config', `KMS key ${keyId} cannot encrypt the session (${name}): ${message}`);
  }
  if (name === 'AccessDeniedException' || (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode === 403) {
    return new SsmProxyError(
      'access-denied',
      `kms:GenerateDataKey on key ${keyId} was denied for ${who}: ${message}; the session's KMS encryption needs kms:GenerateDataKey on that key for your role`,
    );
  }
  return describeAwsError(error, { action: `kms:GenerateDataKey on key ${keyId}`, profile: options.profile, identity: who });
}
