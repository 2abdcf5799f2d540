/**
 * Knobs of the fake agent's shell side (docs/protocol.md §14, §15), under `FakeSsmOptions.shell`.
 * Read live, like every other knob.
 */
import type { FakeKms } from '../fake-kms/index.js';

export interface ShellAgentOptions {
  /** The command in the pseudo-terminal. Default ['sh'] (the agent runs plain sh). */
  command?: string[];
  /** Environment of the shell; TERM and LANG are added the agent's way. Default: PATH and HOME of this process. */
  env?: Record<string, string>;
  /** Working directory of the shell. */
  cwd?: string;
  /** The agent reads the pty this long after the session starts (§14.3). Default 1000. */
  outputStartDelayMs?: number;
  /** realistic (default) = 1 ms sleep after every Output message, like the agent's write pump. */
  pacing?: 'realistic' | 'fast';
  /** Session preferences name this KMS key: the agent asks for KMSEncryption (§15). */
  kmsKeyId?: string;
  /** The KMS the agent calls Decrypt on (its instance role). Required with kmsKeyId. */
  kms?: FakeKms;
  /** The agent's own instance id for the Decrypt context; default the session's Target. */
  instanceId?: string;
  /** Agent option Kms.RequireKMSChallengeResponse. */
  requireChallengeResponse?: boolean;
}

/** What the shell side saw, per session. */
export interface ShellSessionRecord {
  sessionId: string;
  documentName: string;
  /** The python pty helper's pid (to check it is gone after the session). */
  ptyPid?: number;
  /** Size payloads received, in order. */
  sizes: { cols: number; rows: number }[];
  /** Output payloads from the client, and how many of them decrypted (KMS on). */
  inputMessages: number;
  inputDecrypted: number;
  inputDecryptFailures: number;
  /** Output payloads sent to the client, and how many of them were encrypted. */
  outputMessages: number;
  outputEncrypted: number;
  /** Bytes typed into the pty (plaintext). */
  inputBytes: number;
  /** The shell's exit status when it exited by itself. */
  shellExitCode?: number;
  kms?: {
    keyId: string;
    challengeAcknowledged: boolean;
    challengeVerified: boolean;
  };
}
