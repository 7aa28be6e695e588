/**
 * Levenshtein distance between `a` and `b` (insertions, deletions and substitutions
 * of one character each cost 1), with a transposition of two neighbours counted as one
 * edit (`prot` for `port`), as typos usually are.
 */
export function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) rows.push([i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 0; j <= b.length; j++) rows[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    const row = rows[i]!;
    const above = rows[i - 1]!;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min(above[j]! + 1, row[j - 1]! + 1, above[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) row[j] = Math.min(row[j]!, rows[i - 2]![j - 2]! + 1);
    }
  }
  return rows[a.length]![b.length]!;
}

/**
 * The candidate closest to `given` for a "did you mean" hint, or undefined when none is
 * close: at most a third of the longer name may differ (at least one edit), compared
 * without case, so `port` suggests nothing for `name`. Ties go to the first candidate.
 */
export function closestName(given: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const distance = editDistance(given.toLowerCase(), candidate.toLowerCase());
    const allowed = Math.max(1, Math.floor(Math.max(given.length, candidate.length) / 3));
    if (distance <= allowed && distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** `; did you mean "NAME"?` for the closest candidate, or an empty string. */
export function didYouMean(given: string, candidates: Iterable<string>): string {
  const name = closestName(given, candidates);
  return name === undefined ? '' : `; did you mean "${name}"?`;
}
