import type { z } from 'zod';

/** Case, `_` and `-` do not count: `batch_size` and `batch-size` are `batchSize`. */
const normalize = (key: string): string => key.toLowerCase().replace(/[_-]/g, '');

/** Levenshtein distance (insertions, deletions, substitutions), one row at a time. */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/**
 * The known key a mistyped one most likely means (`epoch` → `epochs`, `batch_size` → `batchSize`),
 * or undefined when none is close: at most 2 edits, and fewer than a third of the key's letters.
 */
export function nearestKey(key: string, known: readonly string[]): string | undefined {
  const wanted = normalize(key);
  let best: { key: string; d: number } | undefined;
  for (const candidate of known) {
    const d = distance(wanted, normalize(candidate));
    if (best === undefined || d < best.d) best = { key: candidate, d };
  }
  if (best === undefined) return undefined;
  return best.d === 0 || (best.d <= 2 && best.d * 3 < wanted.length) ? best.key : undefined;
}

/**
 * Rewrites zod's unknown-key issues as `unknown key "epoch" (did you mean "epochs"?)`, one issue
 * per key; `knownAt(path)` lists the keys the object at `path` accepts.
 */
export function withKeySuggestions(
  issues: readonly z.core.$ZodIssue[],
  knownAt: (path: readonly PropertyKey[]) => readonly string[],
): z.core.$ZodIssue[] {
  return issues.flatMap((issue): z.core.$ZodIssue[] => {
    if (issue.code !== 'unrecognized_keys') return [issue];
    const known = knownAt(issue.path);
    return issue.keys.map((key) => {
      const guess = nearestKey(key, known);
      const message = `unknown key "${key}"${guess !== undefined ? ` (did you mean "${guess}"?)` : ''}`;
      return { ...issue, keys: [key], message };
    });
  });
}
