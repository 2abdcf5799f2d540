import type { Cancel, Scheduler } from '../../src/scheduler.js';

interface Timer {
  due: number;
  callback: () => void;
  everyMs: number | undefined;
  cancelled: boolean;
}

/** A Scheduler whose time moves only when a test calls `advance()`. */
export class ManualScheduler implements Scheduler {
  private time = 0;
  private readonly timers: Timer[] = [];

  now(): number {
    return this.time;
  }

  setTimeout(callback: () => void, ms: number): Cancel {
    return this.add(callback, ms, undefined);
  }

  setInterval(callback: () => void, ms: number): Cancel {
    return this.add(callback, ms, ms);
  }

  /** Moves time forward, firing due timers in order. */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      const next = this.timers.filter((t) => !t.cancelled).sort((a, b) => a.due - b.due)[0];
      if (!next || next.due > end) break;
      this.time = next.due;
      if (next.everyMs === undefined) next.cancelled = true;
      else next.due += next.everyMs;
      next.callback();
    }
    this.time = end;
  }

  private add(callback: () => void, ms: number, everyMs: number | undefined): Cancel {
    const timer: Timer = { due: this.time + Math.max(1, ms), callback, everyMs, cancelled: false };
    this.timers.push(timer);
    return () => {
      timer.cancelled = true;
    };
  }
}
