/**
 * The sessions the fake API created. One entry per SessionId holds what both servers need:
 * target, document, port, valid tokens and lifecycle. The agent side lives in AgentSession and is
 * attached lazily when the first client socket opens.
 */
import { randomBytes } from 'node:crypto';
import type { AgentSession } from './agent-session.js';
import type { ShellAgentSession } from './shell-agent-session.js';

export interface SessionEntry {
  sessionId: string;
  target: string;
  documentName: string;
  parameters: Record<string, string[]>;
  portNumber: number;
  /** Tokens issued for this session (StartSession, then each ResumeSession) → when, in ms. */
  tokens: Map<string, number>;
  terminated: boolean;
  agent?: AgentSession | ShellAgentSession;
}

export class SessionStore {
  private readonly sessions = new Map<string, SessionEntry>();

  create(fields: Omit<SessionEntry, 'sessionId' | 'tokens' | 'terminated'>): { entry: SessionEntry; token: string } {
    // Shape of real ids: "<caller>-<17 hex digits>" (§2.1).
    const sessionId = `ssm-proxy-test-${randomBytes(9).toString('hex').slice(0, 17)}`;
    const entry: SessionEntry = { ...fields, sessionId, tokens: new Map(), terminated: false };
    this.sessions.set(sessionId, entry);
    return { entry, token: this.issueToken(entry) };
  }

  get(sessionId: string): SessionEntry | undefined {
    return this.sessions.get(sessionId);
  }

  all(): SessionEntry[] {
    return [...this.sessions.values()];
  }

  /**
   * Tokens are opaque and long, like the real ones. Each opens only its own session, only while
   * the session lives and only for a short while after it was issued (docs/protocol.md §3.2).
   */
  issueToken(entry: SessionEntry, now = Date.now()): string {
    const token = randomBytes(96).toString('base64');
    entry.tokens.set(token, now);
    return token;
  }
}

/** A base64-ish blob that surely contains `+`, `/` and `=` (the §3.3 signing pitfall). */
export function cellNumber(): string {
  for (;;) {
    const blob = randomBytes(40).toString('base64'); // 40 bytes → one '=' of padding
    if (blob.includes('+') && blob.includes('/')) return blob;
  }
}
