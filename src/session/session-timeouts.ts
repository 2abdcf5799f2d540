/**
 * Every wait of a session, in one table: the engine, the websocket connection and the reliable
 * stream take their bounds from here (run-session.ts passes them down), so what a session can
 * wait on, and for how long, reads in one place. Milliseconds.
 *
 * A signal must end a session within ~1.5 s whatever it is doing: the phases before streaming
 * are aborted at once, and then flagAckUrgentMs + max(closeSocketUrgentMs, terminateApiMs) ≤ 1.5 s.
 */
export interface SessionTimeouts {
  /** From the first open socket to HandshakeComplete (or, without a handshake, the first Output). `--handshake-timeout`. */
  handshakeMs: number;
  /** TCP + TLS + proxy + websocket upgrade of one dial, as one deadline: a stall is a network failure. */
  upgradeMs: number;
  /** Websocket ping interval, also how often liveness is checked. */
  pingIntervalMs: number;
  /** Silence (no message, no pong) after which the socket is taken for dead and the session resumed. */
  livenessTimeoutMs: number;
  /** How long to keep resuming a dropped data channel (ResumeSession + dial). `--reconnect-timeout`. */
  reconnectBudgetMs: number;
  /** Connected, data waiting, and nothing acknowledged for this long: the agent is gone. */
  stallMs: number;
  /** Input ended: wait for the agent to acknowledge everything sent, before the TerminateSession flag. */
  drainAcksMs: number;
  /** Ending gracefully: wait for the TerminateSession flag's acknowledgement. */
  flagAckMs: number;
  /** Ending on a signal or a vanished reader: the same wait, short. */
  flagAckUrgentMs: number;
  /** Output the agent was told we have (acknowledged) must reach stdout; up to 1 MiB may be queued for a slow reader. */
  flushOutputMs: number;
  /** Websocket close handshake when the session ended normally. */
  closeSocketMs: number;
  /** The same on a signal, a failure or a vanished reader. */
  closeSocketUrgentMs: number;
  /** TerminateSession API call when the session ends from our side without the agent's word. */
  terminateApiMs: number;
}

export const SESSION_TIMEOUTS: Readonly<SessionTimeouts> = {
  handshakeMs: 30_000,
  upgradeMs: 30_000,
  pingIntervalMs: 20_000,
  livenessTimeoutMs: 65_000,
  reconnectBudgetMs: 5 * 60_000,
  stallMs: 5 * 60_000,
  drainAcksMs: 10_000,
  flagAckMs: 2_000,
  flagAckUrgentMs: 500,
  flushOutputMs: 30_000,
  closeSocketMs: 1_000,
  closeSocketUrgentMs: 300,
  terminateApiMs: 1_000,
};
