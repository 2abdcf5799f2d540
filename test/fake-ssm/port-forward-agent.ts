/**
 * The agent's port plugin for the LocalPortForwarding documents (docs/protocol.md §16):
 * AWS-StartPortForwardingSession (destination localhost:portNumber) and
 * AWS-StartPortForwardingSessionToRemoteHost (destination host:portNumber).
 *
 * Mode as the agent picks it: multiplexed (MuxAgent) when the client's version is ≥ 1.1.70 and
 * the agent is newer than 3.0.196.0 (older agents have no mux); basic otherwise: one destination
 * connection dialled at start, closed on DisconnectToPort or destination EOF and dialled again
 * when the client's next bytes arrive. Forwarding to the instance metadata, DNS and time
 * addresses is refused before anything is dialled, as the agent does.
 */
import { MuxAgent } from './mux-agent.js';
import type { ResolvedFakeSsmOptions } from './options.js';
import { PortTarget } from './port-target.js';
import type { Delivery } from './incoming-stream.js';
import type { SessionEndReason } from './records.js';
import type { SessionEntry } from './session-store.js';

/** Knobs for port forwarding, under FakeSsmOptions.portForward. */
export interface PortForwardKnobs {
  /**
   * Where the fake really connects, by the `host:port` the session names: e.g.
   * `{ 'db.internal:5432': '127.0.0.1:40123' }` (without a host parameter the name is
   * `localhost:<portNumber>`). Names not listed are dialled as they are.
   */
  destinations?: Record<string, string>;
}

/** The agent's default DeniedPortForwardingRemoteIPs (IMDS, Route 53 resolver, time sync, …). */
export const DENIED_REMOTE_ADDRESSES = [
  '169.254.169.254',
  'fd00:ec2::254',
  '169.254.169.253',
  'fd00:ec2::253',
  '169.254.169.123',
  'fd00:ec2::123',
  '169.254.169.250',
  '169.254.169.251',
  'fd00:ec2::240',
];

const MUX_SUPPORTED_CLIENT_VERSION = [1, 1, 70];
const MUX_AFTER_AGENT_VERSION = [3, 0, 196, 0];
const MAX_PENDING_TARGET_WRITE = 8 << 20;

export function isPortForwardDocument(documentName: string): boolean {
  return documentName === 'AWS-StartPortForwardingSession' || documentName === 'AWS-StartPortForwardingSessionToRemoteHost';
}

export interface PortForwardAgentOptions {
  entry: SessionEntry;
  options: ResolvedFakeSsmOptions;
  /** ClientVersion from the HandshakeResponse. */
  clientVersion: string;
  /** One stream message to the client, with the session's capacity wait, pacing and counting. */
  send(payloadType: number, payload: Buffer): Promise<void>;
  end(reason: SessionEndReason, output: string): void;
  /** Messages refused as not-ready may be offered again. */
  drainIncoming(): void;
}

export class PortForwardAgent {
  readonly mode: 'multiplexed' | 'basic';
  mux: MuxAgent | undefined;
  private target: PortTarget | undefined;
  private dialling: Promise<void> | undefined;
  private awaitingDrain = false;
  private disposed = false;
  /** Basic mode: destination connections made, for assertions. */
  basicDials = 0;

  constructor(private readonly agent: PortForwardAgentOptions) {
    const muxCapable =
      compare(agent.options.agentVersion, MUX_AFTER_AGENT_VERSION) > 0 &&
      compare(agent.clientVersion, MUX_SUPPORTED_CLIENT_VERSION) >= 0;
    this.mode = muxCapable ? 'multiplexed' : 'basic';
  }

  /** The named host (parameter `host`), or '' for the instance itself. */
  get host(): string {
    return this.agent.entry.parameters.host?.[0] ?? '';
  }

  /** After HandshakeComplete: validate the destination, then start the mode's machinery. */
  start(): void {
    const denied = this.deniedAddress();
    if (denied) {
      this.agent.end('dial-failed', `Forwarding to IP address ${denied} is forbidden.`);
      return;
    }
    if (this.mode === 'multiplexed') {
      this.mux = new MuxAgent({
        send: (payloadType, payload) => this.agent.send(payloadType, payload),
        destination: () => this.destination(),
        onBroken: (message) => this.agent.end('target-error', `smux: ${message}`),
      });
      return;
    }
    this.dialling = this.dialBasic(true);
  }

  deliverOutput(payload: Buffer): Delivery {
    if (this.disposed) return 'delivered';
    if (this.mux) {
      if (this.mux.receive(payload)) return 'delivered';
      if (!this.awaitingDrain) {
        this.awaitingDrain = true;
        this.mux.onceDrained(() => {
          this.awaitingDrain = false;
          this.agent.drainIncoming();
        });
      }
      return 'not-ready';
    }
    const target = this.target;
    if (!target) {
      // Basic mode after a disconnect: the next bytes make the agent dial again (§16.6).
      this.dialling ??= this.dialBasic(false);
      return 'not-ready';
    }
    if (target.pendingWriteBytes > MAX_PENDING_TARGET_WRITE) {
      if (!this.awaitingDrain) {
        this.awaitingDrain = true;
        target.onceDrained(() => {
          this.awaitingDrain = false;
          this.agent.drainIncoming();
        });
      }
      return 'not-ready';
    }
    target.write(payload);
    return 'delivered';
  }

  /** DisconnectToPort: basic mode closes the destination connection; the mux ignores the flag. */
  onDisconnectToPort(): void {
    if (this.mode !== 'basic') return;
    this.target?.destroy();
    this.target = undefined;
  }

  dispose(): void {
    this.disposed = true;
    this.mux?.dispose();
    this.target?.destroy();
  }

  private destination(): { host: string; port: number } {
    const name = `${this.host || 'localhost'}:${this.agent.entry.portNumber}`;
    const mapped = this.agent.options.portForward?.destinations?.[name];
    const where = mapped ?? `${this.host || this.agent.options.targetHost}:${this.agent.options.targetPortOverride ?? this.agent.entry.portNumber}`;
    const colon = where.lastIndexOf(':');
    return { host: where.slice(0, colon).replace(/^\[|\]$/g, ''), port: Number(where.slice(colon + 1)) };
  }

  private deniedAddress(): string | undefined {
    if (!this.host) return undefined;
    const candidates = [this.host.replace(/^\[|\]$/g, ''), this.destination().host];
    return candidates.find((address) => DENIED_REMOTE_ADDRESSES.includes(address.toLowerCase()));
  }

  private async dialBasic(atStart: boolean): Promise<void> {
    const { host, port } = this.destination();
    try {
      const target = await PortTarget.dial(host, port, {
        onData: async (chunk) => {
          for (let offset = 0; offset < chunk.length; offset += 1024) {
            if (this.disposed || this.target !== target) return;
            await this.agent.send(1, chunk.subarray(offset, offset + 1024));
          }
        },
        // The destination closed: in LocalPortForwarding mode the agent waits for the client's
        // next bytes and dials again; the client is not told (§16.6).
        onEnd: () => this.dropTarget(target),
        onError: () => this.dropTarget(target),
      });
      this.basicDials++;
      if (this.disposed) {
        target.destroy();
        return;
      }
      this.target = target;
      this.dialling = undefined;
      this.agent.drainIncoming();
    } catch (error) {
      this.dialling = undefined;
      const message = `Unable to connect to specified port: ${(error as Error).message}`;
      if (atStart) this.agent.end('dial-failed', message);
      else this.agent.end('target-error', message);
    }
  }

  private dropTarget(target: PortTarget): void {
    target.destroy();
    if (this.target === target) this.target = undefined;
  }
}

function compare(version: string, than: number[]): number {
  if (!/^\d+(\.\d+)*$/.test(version)) return -1;
  const parts = version.split('.').map(Number);
  for (let i = 0; i < Math.max(parts.length, than.length); i++) {
    const difference = (parts[i] ?? 0) - (than[i] ?? 0);
    if (difference !== 0) return Math.sign(difference);
  }
  return 0;
}
