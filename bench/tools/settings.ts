/**
 * A benchmark setting from the environment (`BENCH_REQUESTS` and the like): a
 * positive whole number, or `fallback` when unset. Anything else stops the run with
 * the variable's name instead of measuring with NaN.
 */
export function positiveSetting(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive whole number, got "${text}"`);
  return value;
}
