import type { PortForwardKnobs } from './port-forward-agent.js';

/**
 * Knobs of the fake SSM service. Every field is optional for callers; `resolveOptions` fills the
 * defaults once. The resolved object stays mutable and is read live, so a test can flip a knob
 * (for example `fake.options.startSessionError = 'AccessDeniedException'`) between two calls.
 */
import type { ShellAgentOptions } from './shell-options.js';

export type ApiErrorType =
  | 'AccessDeniedException'
  | 'InvalidDocument'
  | 'TargetNotConnected'
  | 'DoesNotExistException';

/** Fault fractions for one direction; each is a probability in [0, 1] per stream/ack frame. */
export interface DirectionFaults {
  drop?: number;
  duplicate?: number;
  reorder?: number;
}

export interface FakeSsmOptions {
  /** Port forwarding documents (port-forward-agent.ts): destination mapping. */
  portForward?: PortForwardKnobs;
  /** Listen port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /** Region expected in credential scopes (API and websocket). Default us-east-1. */
  region?: string;
  /** Account id used in ARNs of error messages. */
  accountId?: string;

  // --- SSM API ---
  /** Make every StartSession fail with this AWS error (HTTP 400). */
  startSessionError?: ApiErrorType;
  /** ResumeSession answers AccessDeniedException (the client must give up cleanly). */
  denyResumeSession?: boolean;

  // --- websocket upgrade ---
  /** Reject upgrades without an `Authorization: AWS4-HMAC-SHA256 …ssmmessages…` header (403). Default true. */
  requireSigV4?: boolean;
  /**
   * Verify SigV4 signatures as AWS does (docs/protocol.md §3.3) on the websocket upgrade (403 when
   * wrong) and on every API call (HTTP 400 InvalidSignatureException / UnrecognizedClientException),
   * knowing only these credentials.
   */
  verifySignature?: { accessKeyId: string; secretAccessKey: string };
  /**
   * How long after issue a StartSession/ResumeSession token can open the data channel. AWS: "valid
   * only long enough to ensure the connection is successful". Default 60 000.
   */
  tokenLifetimeMs?: number;

  // --- agent ---
  /** AgentVersion in the HandshakeRequest. Default 3.3.987.0. */
  agentVersion?: string;
  /** Host the agent dials for a Port session. Default 127.0.0.1. */
  targetHost?: string;
  /** Dial this port instead of the session's portNumber parameter. */
  targetPortOverride?: number;
  /** Wait this long after HandshakeComplete before dialling (exercises "not ready" handling). */
  dialDelayMs?: number;
  /** How long the agent waits for the HandshakeResponse (§8.2). Default 15 000. */
  handshakeTimeoutMs?: number;
  /** Never send HandshakeComplete (client handshake timeout tests). */
  neverCompleteHandshake?: boolean;
  /** realistic = 1 ms sleep per ≤1024-byte message like the agent (§7); fast = no sleep. Default fast. */
  agentPacing?: 'realistic' | 'fast';
  /** Stop reading the target while this many messages are unacked (§6.2 back-pressure). Default 10 000. */
  maxUnacked?: number;
  /** Resend scheduler tick (§6.4). Default 100. */
  resendIntervalMs?: number;
  /** false (default) = resend only the front unacked message per tick, as the agent does. */
  resendAllExpired?: boolean;
  /** How long to wait for outstanding acks after target EOF (§10.2). Default 2000. */
  closeDrainMs?: number;

  // --- MGS ---
  /** Idle timeout reset by stream messages only (§11.3). Default 20 min. */
  idleTimeoutMs?: number;
  /** Close the client socket with 1000 "Bye" after this many stream payload bytes (both directions) on it. */
  recycleAfterBytes?: number;
  /** Send pause_publication then start_publication to the client every intervalMs after the handshake. */
  sendPublicationMessages?: boolean | { intervalMs: number };

  /** The shell agent (SSM-SessionManagerRunShell sessions): shell-options.ts. */
  shell?: ShellAgentOptions;

  // --- faults (applied to output_stream_data/acknowledge frames only, never channel_closed) ---
  faults?: {
    /** Seed of the PRNG so a failing run can be repeated exactly. Default 1. */
    seed?: number;
    serverToClient?: DirectionFaults;
    clientToServer?: DirectionFaults;
    /** Corrupt the digest of every Nth server→client frame (a copy; retransmissions are clean). */
    corruptDigestEvery?: number;
  };
}

export type ResolvedFakeSsmOptions = Required<
  Omit<FakeSsmOptions, 'startSessionError' | 'verifySignature' | 'targetPortOverride' | 'recycleAfterBytes' | 'faults' | 'shell' | 'portForward'>
> &
  Pick<FakeSsmOptions, 'startSessionError' | 'verifySignature' | 'targetPortOverride' | 'recycleAfterBytes' | 'shell' | 'portForward'> & {
    faults: Required<Pick<NonNullable<FakeSsmOptions['faults']>, 'seed'>> & NonNullable<FakeSsmOptions['faults']>;
  };

export function resolveOptions(options: FakeSsmOptions = {}): ResolvedFakeSsmOptions {
  return {
    port: 0,
    region: 'us-east-1',
    accountId: '123456789012',
    denyResumeSession: false,
    requireSigV4: true,
    tokenLifetimeMs: 60_000,
    agentVersion: '3.3.987.0',
    targetHost: '127.0.0.1',
    dialDelayMs: 0,
    handshakeTimeoutMs: 15_000,
    neverCompleteHandshake: false,
    agentPacing: 'fast',
    maxUnacked: 10_000,
    resendIntervalMs: 100,
    resendAllExpired: false,
    closeDrainMs: 2_000,
    idleTimeoutMs: 20 * 60_000,
    sendPublicationMessages: false,
    ...options,
    faults: { seed: 1, ...options.faults },
  };
}
