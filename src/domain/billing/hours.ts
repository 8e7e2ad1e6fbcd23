/**
 * Billing time is counted in whole UTC hours since the Unix epoch: usage rolls up per hour, and
 * periods, plan versions and plan assignments start and end on the hour.
 */
export const HOUR_MS = 3_600_000;

export const hourOf = (ms: number): number => Math.floor(ms / HOUR_MS);
/** `2026-11-01T00:00:00Z`: billing times are whole hours, shown to the second like every API time. */
export const hourToIso = (hour: number): string =>
  new Date(hour * HOUR_MS).toISOString().replace('.000Z', 'Z');

/** An ISO timestamp exactly on the hour → its hour; anything else → undefined. */
export function exactHour(iso: string): number | undefined {
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms) || ms % HOUR_MS !== 0) return undefined;
  return ms / HOUR_MS;
}

/** The calendar month (UTC) containing `hour`, as [start, end) hours. */
export function monthOf(hour: number): { start: number; end: number } {
  const d = new Date(hour * HOUR_MS);
  const start = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1) / HOUR_MS;
  const end = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) / HOUR_MS;
  return { start, end };
}
