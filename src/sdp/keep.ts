// Strings that outlive the message they were cut from: detached from it, and repeated ones shared.
//
// In JavaScriptCore a slice or split piece of a string is a view that keeps the whole original alive: one
// codec name or address kept from an SDP holds on to the entire SDP body (and its parsed copy of every
// line) for as long as the call lives. Values stored in call state go through keep() instead: it returns
// a flat copy, the same copy for repeated values (codec names, directions, protocols, local and peer
// addresses), so a held call keeps only the bytes it uses; keepUnique() copies values that never repeat.

/** Bounded, so values that happen to be unique (peer addresses) cannot grow it without limit; cleared when full. */
const MAX_SHARED = 2048;
/** Longer values (candidates, fingerprints, fmtp) are copied, not shared: repeats are unlikely. */
const MAX_SHARED_LENGTH = 48;
const shared = new Map<string, string>();

/** A copy of `s` that keeps no larger string alive (the JSON round trip builds a new flat string). */
function flatCopy(s: string): string {
  return JSON.parse(JSON.stringify(s)) as string;
}

export function keep(s: string): string {
  if (s.length === 0) return "";
  if (s.length > MAX_SHARED_LENGTH) return flatCopy(s);
  const hit = shared.get(s);
  if (hit !== undefined) return hit;
  const own = flatCopy(s);
  if (shared.size >= MAX_SHARED) shared.clear();
  shared.set(own, own);
  return own;
}

/** A detached copy of a value unique to one call (keys, ICE credentials): not worth sharing. */
export function keepUnique(s: string): string {
  return s.length === 0 ? "" : flatCopy(s);
}

/** keep() for a nullable value. */
export function keepOrNull(s: string | null | undefined): string | null {
  return s === null || s === undefined ? null : keep(s);
}

/** keepUnique() for a nullable value. */
export function keepUniqueOrNull(s: string | null | undefined): string | null {
  return s === null || s === undefined ? null : keepUnique(s);
}
