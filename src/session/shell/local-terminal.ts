import { spawnSync } from 'node:child_process';
import type { ReadStream, WriteStream } from 'node:tty';
import type { TerminalSize } from '../../protocol/terminal-size.js';

/** What the plugin sends when it cannot read a size (docs/protocol.md §14.4). */
export const FALLBACK_SIZE: TerminalSize = { cols: 300, rows: 100 };

export interface LocalTerminalOptions {
  input: NodeJS.ReadableStream & Partial<Pick<ReadStream, 'isTTY' | 'setRawMode'>> & { fd?: unknown };
  /** Where the size is read from: the first of these that is a terminal. */
  sizeSources: (NodeJS.WritableStream & Partial<Pick<WriteStream, 'isTTY' | 'columns' | 'rows'>>)[];
  /** The process whose 'exit' restores the terminal however the program ends. */
  exitHooks: Pick<NodeJS.Process, 'once' | 'off'>;
}

/**
 * The user's terminal for an interactive shell: full raw mode while the session runs, so every
 * key (Ctrl-C, Ctrl-Z, Ctrl-\, Ctrl-D included) goes to the remote shell as bytes and never
 * signals ssm-proxy; output post-processing off too, as ssh does, so a remote full-screen
 * program's bare line feeds are not turned into CR LF. Restored by `restore()`, and by the
 * process 'exit' hook on every other way out (errors, signals that exit, a crash).
 */
export class LocalTerminal {
  readonly isInteractive: boolean;
  private raw = false;
  private readonly onExit = () => this.restore();

  constructor(private readonly options: LocalTerminalOptions) {
    this.isInteractive = options.input.isTTY === true && typeof options.input.setRawMode === 'function';
  }

  /** True while the terminal is in raw mode: text for it must end lines with CR LF. */
  get isRaw(): boolean {
    return this.raw;
  }

  /** Enters raw mode when stdin is a terminal; a no-op otherwise. */
  enterRawMode(): void {
    if (!this.isInteractive || this.raw) return;
    this.options.exitHooks.once('exit', this.onExit);
    // libuv saves the terminal's settings on the way in and puts exactly those back on the way
    // out, so what `stty -opost` changes below is undone by setRawMode(false) as well.
    this.options.input.setRawMode!(true);
    this.raw = true;
    const fd: unknown = this.options.input.fd;
    spawnSync('stty', ['-opost'], { stdio: [typeof fd === 'number' ? fd : 0, 'ignore', 'ignore'], timeout: 2000 });
  }

  /** Puts the terminal back as it was; safe to call any number of times. */
  restore(): void {
    if (!this.raw) return;
    this.raw = false;
    this.options.exitHooks.off('exit', this.onExit);
    try {
      this.options.input.setRawMode!(false);
    } catch {
      // the terminal is gone (hung up): nothing left to restore
    }
  }

  /** The terminal's size, or the plugin's fallback when no stream is a terminal. */
  size(): TerminalSize {
    const source = this.sizeSource();
    if (source?.columns && source.rows) return { cols: source.columns, rows: source.rows };
    return FALLBACK_SIZE;
  }

  /** Calls `listener` on every SIGWINCH (Node turns it into 'resize'); returns the unsubscribe. */
  onResize(listener: (size: TerminalSize) => void): () => void {
    const source = this.sizeSource();
    if (!source) return () => {};
    const handler = () => listener(this.size());
    source.on('resize', handler);
    return () => source.off('resize', handler);
  }

  private sizeSource() {
    return this.options.sizeSources.find((stream) => stream.isTTY === true);
  }
}
