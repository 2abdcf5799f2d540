import { createCipheriv, createDecipheriv, randomFillSync } from 'node:crypto';
import { KMS_DATA_KEY_BYTES } from '../../protocol/kms-encryption.js';

const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = KMS_DATA_KEY_BYTES / 2;

/**
 * The client's half of KMS session encryption (docs/protocol.md §15.3): AES-256-GCM, no AAD,
 * payload = nonce(12) ‖ ciphertext ‖ tag(16). The 64-byte data key's first half decrypts what
 * the agent sends, the second half encrypts what we send. Nonces are random per message, as the
 * plugin does. Holds the key only in memory; never log it.
 */
export class KmsCipher {
  private readonly decryptionKey: Buffer;
  private readonly encryptionKey: Buffer;

  constructor(dataKey: Uint8Array) {
    if (dataKey.length !== KMS_DATA_KEY_BYTES) {
      throw new RangeError(`a KMS data key of ${dataKey.length} bytes; the session needs ${KMS_DATA_KEY_BYTES}`);
    }
    // Copies, so the caller may wipe its buffer.
    this.decryptionKey = Buffer.from(dataKey.subarray(0, KEY_BYTES));
    this.encryptionKey = Buffer.from(dataKey.subarray(KEY_BYTES));
  }

  /** Encrypts one outgoing payload. */
  encrypt(plain: Buffer): Buffer {
    const sealed = Buffer.allocUnsafe(NONCE_BYTES + plain.length + TAG_BYTES);
    const nonce = sealed.subarray(0, NONCE_BYTES);
    randomFillSync(nonce);
    const cipher = createCipheriv('aes-256-gcm', this.encryptionKey, nonce);
    let offset = NONCE_BYTES + cipher.update(plain).copy(sealed, NONCE_BYTES);
    offset += cipher.final().copy(sealed, offset);
    cipher.getAuthTag().copy(sealed, offset);
    return sealed;
  }

  /** Decrypts one incoming payload; undefined when it is too short or fails authentication. */
  decrypt(sealed: Buffer): Buffer | undefined {
    if (sealed.length < NONCE_BYTES + TAG_BYTES) return undefined;
    const decipher = createDecipheriv('aes-256-gcm', this.decryptionKey, sealed.subarray(0, NONCE_BYTES));
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    try {
      const body = decipher.update(sealed.subarray(NONCE_BYTES, sealed.length - TAG_BYTES));
      const tail = decipher.final();
      return tail.length === 0 ? body : Buffer.concat([body, tail]);
    } catch {
      return undefined;
    }
  }

  /** Overwrites the keys once the session is over. */
  wipe(): void {
    this.decryptionKey.fill(0);
    this.encryptionKey.fill(0);
  }
}
