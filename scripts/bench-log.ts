/**
 * ssm-proxy's own figures from its `-v` log: phase timings (the `timings:` line, written when the
 * session starts streaming) and peak RSS and CPU (the last line, written when it ends).
 */
export interface ProxyFigures {
  /** Milliseconds per phase, in order, plus `total` (from process start). */
  timings?: Record<string, number>;
  peakRssMb?: number;
  cpuSeconds?: number;
  /** Stream messages the client resent (the agent's "not ready" costs one each). */
  resent?: number;
}

/** Figures of the last session in `text`. */
export function parseProxyLog(text: string): ProxyFigures {
  const figures: ProxyFigures = {};
  const timings = last(text, /timings: (.*) \(total (\d+) ms\)/g);
  if (timings) {
    figures.timings = {};
    for (const part of timings[1]!.split(', ')) {
      const match = /^(.*) (\d+) ms$/.exec(part);
      if (match) figures.timings[match[1]!] = Number(match[2]);
    }
    figures.timings.total = Number(timings[2]);
  }
  const stats = last(text, /(\d+) resent, .*peak RSS (\d+) MB, CPU ([\d.]+) s user \+ ([\d.]+) s system/g);
  if (stats) {
    figures.resent = Number(stats[1]);
    figures.peakRssMb = Number(stats[2]);
    figures.cpuSeconds = Number((Number(stats[3]) + Number(stats[4])).toFixed(2));
  }
  return figures;
}

function last(text: string, pattern: RegExp): RegExpExecArray | undefined {
  let found: RegExpExecArray | undefined;
  for (const match of text.matchAll(pattern)) found = match as RegExpExecArray;
  return found;
}

export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Median of each key over a list of records (keys missing from some records use those that have them). */
export function medianOf(records: Record<string, number>[]): Record<string, number> {
  const lists: Record<string, number[]> = {};
  for (const record of records) for (const [key, value] of Object.entries(record)) (lists[key] ??= []).push(value);
  return Object.fromEntries(Object.entries(lists).map(([key, list]) => [key, median(list)]));
}
