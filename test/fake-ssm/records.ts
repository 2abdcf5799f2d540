/**
 * What the fake saw, for assertions. Plain arrays and counters: tests read them directly and
 * `waitForRecord` polls them with a deadline.
 */
import type { ShellSessionRecord } from './shell-options.js';

export type ApiOperation = 'StartSession' | 'ResumeSession' | 'TerminateSession' | 'Unknown';

export interface ApiCallRecord {
  operation: ApiOperation;
  /** Raw X-Amz-Target header. */
  amzTarget: string;
  contentType: string;
  /** An `Authorization: AWS4-HMAC-SHA256 …` header was present. */
  authorization: boolean;
  /** Service and region from the credential scope, when present. */
  credentialService?: string;
  credentialRegion?: string;
  /** The access key id from the credential scope: which credentials signed the call. */
  accessKeyId?: string;
  target?: string;
  documentName?: string;
  parameters?: Record<string, string[]>;
  reason?: string;
  sessionId?: string;
  /** undefined when no verification was configured (see `verifySignature`). */
  signatureOk?: boolean;
  status: number;
  errorType?: string;
}

export interface ConnectionRecord {
  sessionId: string;
  authorizationPresent: boolean;
  /** undefined when no verification was configured. */
  signatureOk?: boolean;
  tokenOk: boolean;
  /** Why the token did not open the session, when it did not. */
  tokenRejection?: 'missing' | 'unknown' | 'expired' | 'session-ended';
  /**
   * Where the open frame departs from the service model's declared constraints (docs/protocol.md
   * §3.2). Recorded, not enforced: AWS is not known to refuse these.
   */
  openFrameIssues: string[];
  requestId?: string;
  clientId?: string;
  clientVersion?: string;
  closeCode?: number;
  closeReason?: string;
}

export interface RejectedUpgradeRecord {
  path: string;
  status: number;
  reason: string;
}

/**
 * A Flag message (PayloadType 10) that reached the service, recorded once per sequence number on
 * first arrival — also when the session had already ended (say, by a TerminateSession API call
 * racing the flag), because MGS saw it all the same.
 */
export interface FlagRecord {
  sessionId: string;
  flag: number;
  name: 'DisconnectToPort' | 'TerminateSession' | 'ConnectToPortError' | 'Unknown';
  sequenceNumber: number;
  /** The session had already ended when the flag arrived. */
  afterEnd: boolean;
  /** The agent acted on it (in order, before the session ended). */
  processed: boolean;
}

export interface HandshakeResponseRecord {
  sessionId: string;
  clientVersion: string;
  actionStatuses: number[];
  errors: string[] | null;
}

export type SessionEndReason =
  | 'target-eof'
  | 'target-error'
  | 'dial-failed'
  | 'terminate-flag'
  | 'terminate-api'
  | 'disconnect-to-port'
  | 'handshake-failed'
  | 'handshake-timeout'
  | 'idle-timeout'
  | 'server-closed'
  | 'shell-exit'
  | 'decrypt-failed';

export interface SessionEndRecord {
  sessionId: string;
  reason: SessionEndReason;
  output: string;
}

export interface DirectionCounters {
  /** Frames that crossed the wire (after faults; duplicates count twice). */
  frames: number;
  /** Per MessageType, counted like `frames`. */
  byType: Record<string, number>;
  /** Stream payload bytes (PT 1) first delivered/sent, excluding retransmissions. */
  streamBytes: number;
  dropped: number;
  duplicated: number;
  reordered: number;
}

export interface FakeSsmRecords {
  apiCalls: ApiCallRecord[];
  connections: ConnectionRecord[];
  rejectedUpgrades: RejectedUpgradeRecord[];
  flags: FlagRecord[];
  handshakeResponses: HandshakeResponseRecord[];
  sessionEnds: SessionEndRecord[];
  /** One per shell session (shell-options.ts). */
  shellSessions: ShellSessionRecord[];
  clientToServer: DirectionCounters & {
    /**
     * Frames the agent's reader refuses (docs/protocol.md §4.2): shorter than 116 bytes, or zero
     * HeaderLength / empty MessageType / zero CreatedDate.
     */
    invalid: number;
    /**
     * Frames whose HeaderLength + 4 lies past the end: the real agent's reader panics and stops
     * reading (the session hangs); the fake drops them and counts them here.
     */
    wouldHangAgent: number;
    /**
     * Accepted, as by the real agent, which never checks them — but wrong: the digest does not
     * match the payload, or PayloadLength is not the payload's size. Tests assert these stay 0.
     */
    digestMismatches: number;
    payloadLengthMismatches: number;
    /** Client stream messages that arrived with seq < expected and were re-acked. */
    duplicatesReacked: number;
    /** Client data messages refused because the target was not connected yet (no ack). */
    notReady: number;
  };
  serverToClient: DirectionCounters & { retransmitted: number; corrupted: number; publications: number };
}

function counters(): DirectionCounters {
  return { frames: 0, byType: {}, streamBytes: 0, dropped: 0, duplicated: 0, reordered: 0 };
}

export function createRecords(): FakeSsmRecords {
  return {
    apiCalls: [],
    connections: [],
    rejectedUpgrades: [],
    flags: [],
    handshakeResponses: [],
    sessionEnds: [],
    shellSessions: [],
    clientToServer: {
      ...counters(),
      invalid: 0,
      wouldHangAgent: 0,
      digestMismatches: 0,
      payloadLengthMismatches: 0,
      duplicatesReacked: 0,
      notReady: 0,
    },
    serverToClient: { ...counters(), retransmitted: 0, corrupted: 0, publications: 0 },
  };
}

export function countFrame(direction: DirectionCounters, messageType: string): void {
  direction.frames++;
  direction.byType[messageType] = (direction.byType[messageType] ?? 0) + 1;
}
