/** How the page writes numbers, durations and times. `null` (no data) is always an em dash. */

export const NO_DATA = '—';

/** Seconds as `850 µs`, `12.3 ms`, `4.56 s`, `3m 20s`, `2h 05m`, `3d 4h`. */
export function formatSeconds(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return NO_DATA;
  const sign = seconds < 0 ? '-' : '';
  const value = Math.abs(seconds);
  if (value === 0) return '0 s';
  if (value < 1e-3) return `${sign}${round(value * 1e6)} µs`;
  if (value < 1) return `${sign}${round(value * 1e3)} ms`;
  if (value < 60) return `${sign}${round(value)} s`;
  const minutes = Math.floor(value / 60);
  if (minutes < 60) return `${sign}${minutes}m ${pad(Math.floor(value % 60))}s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${sign}${hours}h ${pad(minutes % 60)}m`;
  return `${sign}${Math.floor(hours / 24)}d ${hours % 24}h`;
}

/** Three significant digits, at most two decimals. */
function round(value: number): string {
  if (value >= 100) return value.toFixed(0);
  if (value >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

function pad(value: number): string {
  return String(value).padStart(2, '0');
}

/** A percentage: `0%`, `<0.1%`, `2.5%`, `100%`. */
export function formatPercent(percent: number | null): string {
  if (percent === null || !Number.isFinite(percent)) return NO_DATA;
  if (percent === 0) return '0%';
  if (percent < 0.1) return '<0.1%';
  if (percent >= 99.95 && percent < 100) return '>99.9%';
  return `${percent >= 10 ? percent.toFixed(0) : percent.toFixed(1)}%`;
}

/** A count: `0`, `912`, `12.3k`, `4.5M`. */
export function formatCount(count: number | null): string {
  if (count === null || !Number.isFinite(count)) return NO_DATA;
  const value = Math.abs(count);
  if (value < 1000) return Number.isInteger(count) ? String(count) : count.toFixed(1);
  if (value < 1e6) return `${(count / 1e3).toFixed(value < 1e4 ? 2 : 1)}k`;
  return `${(count / 1e6).toFixed(1)}M`;
}

/** A rate per second: `0.25/s`, `12/s`. */
export function formatRate(perSecond: number | null): string {
  if (perSecond === null || !Number.isFinite(perSecond)) return NO_DATA;
  if (perSecond === 0) return '0/s';
  if (perSecond < 0.01) return `${(perSecond * 60).toFixed(2)}/min`;
  return `${round(perSecond)}/s`;
}

/** An age in seconds: `just now`, `42s ago`, `5m ago`, `3h ago`, `2d ago`. */
export function formatAge(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return NO_DATA;
  if (seconds < 1) return 'just now';
  if (seconds < 60) return `${Math.floor(seconds)}s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ago`;
  if (seconds < 172800) return `${Math.floor(seconds / 3600)}h ago`;
  return `${Math.floor(seconds / 86400)}d ago`;
}

/** A Unix-ms time relative to `now` (Unix ms), e.g. `5m ago`. */
export function formatSince(time: number | null, now: number = Date.now()): string {
  return time === null ? NO_DATA : formatAge(Math.max(0, (now - time) / 1000));
}

/** A Unix-ms time as local `2026-12-07 18:14:03`. */
export function formatTime(time: number | null): string {
  if (time === null || !Number.isFinite(time)) return NO_DATA;
  const date = new Date(time);
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`
  );
}

/** A Unix-ms time as local `18:14:03`. */
export function formatClock(time: number): string {
  const date = new Date(time);
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}
