/**
 * The agent's half of KMS session encryption, written from docs/protocol.md §15.3 on its own so
 * that the client's cipher is checked against an independent implementation: the agent encrypts
 * with bytes 0–31 of the data key and decrypts with bytes 32–63; its nonces come from a counter
 * of three little-endian uint32 words with a random start.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export class AgentCipher {
  private readonly encryptionKey: Buffer;
  private readonly decryptionKey: Buffer;
  private readonly nonce = new Uint32Array(3);

  constructor(dataKey: Buffer) {
    this.encryptionKey = Buffer.from(dataKey.subarray(0, 32));
    this.decryptionKey = Buffer.from(dataKey.subarray(32, 64));
    const start = randomBytes(12);
    for (let word = 0; word < 3; word++) this.nonce[word] = start.readUInt32LE(word * 4);
  }

  encrypt(plain: Buffer): Buffer {
    const nonce = Buffer.alloc(12);
    for (let word = 0; word < 3; word++) nonce.writeUInt32LE(this.nonce[word]!, word * 4);
    for (let word = 0; word < 3; word++) {
      this.nonce[word] = (this.nonce[word]! + 1) >>> 0;
      if (this.nonce[word] !== 0) break;
    }
    const cipher = createCipheriv('aes-256-gcm', this.encryptionKey, nonce);
    return Buffer.concat([nonce, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
  }

  decrypt(sealed: Buffer): Buffer | undefined {
    if (sealed.length < 28) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.decryptionKey, sealed.subarray(0, 12));
      decipher.setAuthTag(sealed.subarray(sealed.length - 16));
      return Buffer.concat([decipher.update(sealed.subarray(12, sealed.length - 16)), decipher.final()]);
    } catch {
      return undefined;
    }
  }
}
