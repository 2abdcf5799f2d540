/**
 * Time as a dependency: every layer (channel, transport, session) asks this for "now" and for
 * timers, so tests can drive time by hand instead of sleeping.
 */
export interface Scheduler {
  /** Milliseconds, monotonic. */
  now(): number;
  setTimeout(callback: () => void, ms: number): Cancel;
  setInterval(callback: () => void, ms: number): Cancel;
}

export type Cancel = () => void;

/**
 * The real clock. One-shot timers keep the process alive: they are steps the session is waiting
 * on (a drain, a deadline). Intervals are background ticks (resend, ping) and do not.
 */
export const systemScheduler: Scheduler = {
  now: () => performance.now(),
  setTimeout(callback, ms) {
    const timer = setTimeout(callback, ms);
    return () => clearTimeout(timer);
  },
  setInterval(callback, ms) {
    const timer = setInterval(callback, ms);
    timer.unref();
    return () => clearInterval(timer);
  },
};
