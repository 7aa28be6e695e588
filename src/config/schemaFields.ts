import { z } from 'zod';

/** An integer from `min` to `max`; the message names the range, never the value (it may be a secret). */
export function intBetween(min: number, max: number) {
  const error = `expected integer between ${min} and ${max}`;
  return z.number({ error }).int({ error }).min(min, { error }).max(max, { error });
}

/** A string with at least one character. */
export const nonEmptyString = z.string({ error: 'expected a string' }).min(1, { error: 'expected a non-empty string' });

/** A boolean. */
export const flag = z.boolean({ error: 'expected true or false' });
