import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { SsmProxyError } from '../errors.js';
import { clientOptions, labelEndpoints, sendWithDeadline, type AwsClientSettings } from './aws-call.js';
import { describeSigner, ssoOf, type AwsContext } from './aws-context.js';
import { describeAwsError } from './aws-errors.js';
import { loadCommonJs } from './commonjs-package.js';

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
  /** Region and who signs (for AccessDenied messages), resolved once for the command. */
  context: Pick<AwsContext, 'region' | 'profile' | 'signer'>;
  credentials: AwsCredentialIdentityProvider;
  /** An explicit endpoint; AWS_ENDPOINT_URL_KMS and AWS_ENDPOINT_URL are read by the SDK itself. */
  endpoint?: string;
  /** Proxy / CA agents and timeouts shared with every other AWS call. */
  client: AwsClientSettings;
}

/** KMS through @aws-sdk/client-kms, loaded only when a session asks for encryption. */
export async function createKmsApi(options: KmsApiOptions): Promise<KmsApi> {
  const { KMSClient, GenerateDataKeyCommand } = await loadCommonJs('@aws-sdk/client-kms', () => import('@aws-sdk/client-kms'));
  const client = labelEndpoints(
    new KMSClient({
      region: options.context.region,
      credentials: options.credentials,
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      ...clientOptions(options.client, 3),
    }),
  );
  return {
    async generateDataKey({ keyId, numberOfBytes, encryptionContext }) {
      let output;
      try {
        output = await sendWithDeadline<{ CiphertextBlob?: Uint8Array; Plaintext?: Uint8Array }>(
          client,
          new GenerateDataKeyCommand({ KeyId: keyId, NumberOfBytes: numberOfBytes, EncryptionContext: encryptionContext }),
          { timeouts: options.client.timeouts },
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
export function describeKmsError(error: unknown, keyId: string, options: Pick<KmsApiOptions, 'context' | 'client'>): SsmProxyError {
  const name = (error as { name?: string } | undefined)?.name ?? '';
  const message = ((error as { message?: string } | undefined)?.message ?? String(error)).replace(/\s+/g, ' ').trim();
  const who = describeSigner(options.context);
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
  return describeAwsError(error, { action: `kms:GenerateDataKey on key ${keyId}`, service: 'KMS', who, sso: ssoOf(options.context), timeouts: options.client.timeouts });
}
