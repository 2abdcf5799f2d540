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
  status: number;
  errorType?: string;
}

export interface ConnectionRecord {
  sessionId: string;
  authorizationPresent: boolean;
  /** undefined when no verification was configured. */
  signatureOk?: boolean;
  tokenOk: boolean;
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

export interface FlagRecord {
  sessionId: string;
  flag: number;
  name: 'DisconnectToPort' | 'TerminateSession' | 'ConnectToPortError' | 'Unknown';
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
    /** Frames the decoder refused (bad digest, short …). */
    invalid: number;
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
    clientToServer: { ...counters(), invalid: 0, duplicatesReacked: 0, notReady: 0 },
    serverToClient: { ...counters(), retransmitted: 0, corrupted: 0, publications: 0 },
  };
}

export function countFrame(direction: DirectionCounters, messageType: string): void {
  direction.frames++;
  direction.byType[messageType] = (direction.byType[messageType] ?? 0) + 1;
}
