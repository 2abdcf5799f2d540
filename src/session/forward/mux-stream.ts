import type { Socket } from 'node:net';
import { LocalOutput } from './local-output.js';
import type { OutputBudget } from './output-budget.js';

/**
 * One local TCP connection carried as one smux stream (docs/protocol.md §16.3). Knows its two
 * halves' state; the multiplexer does the framing.
 */
export class MuxStream {
  readonly output: LocalOutput;
  /** We sent FIN: nothing more goes to the agent on this stream. */
  finSent = false;
  /** The agent sent FIN: its side is closed (it forgets the stream, so ours is done too). */
  finReceived = false;
  bytesIn = 0;
  bytesOut = 0;

  constructor(
    readonly id: number,
    readonly socket: Socket,
    budget: OutputBudget,
  ) {
    this.output = new LocalOutput(socket, budget);
  }

  /** `address:port` of the local client, for messages. */
  get peer(): string {
    return `${this.socket.remoteAddress ?? '?'}:${this.socket.remotePort ?? '?'}`;
  }
}
