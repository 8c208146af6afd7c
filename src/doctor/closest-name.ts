// "Did you mean ...?": the known name closest to a mistyped one, by Levenshtein distance on the
// lower-cased names (IQNs compare case-insensitively, RFC 7143 section 4.2.7.1). Pure.

export function editDistance(a: string, b: string): number {
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
 * The candidate closest to `name`, or null when none is close enough to be a likely typo: at
 * most a third of the name's length apart (so "disk0" → "disk1", but not an unrelated IQN).
 */
export function closestName(name: string, candidates: readonly string[]): string | null {
  const wanted = name.toLowerCase();
  let best: { name: string; distance: number } | null = null;
  for (const candidate of candidates) {
    const distance = editDistance(wanted, candidate.toLowerCase());
    if (distance > 0 && (best === null || distance < best.distance)) best = { name: candidate, distance };
  }
  return best !== null && best.distance <= Math.max(2, Math.floor(wanted.length / 3)) ? best.name : null;
}
