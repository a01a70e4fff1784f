// Tables indexed by small reused numbers (socket handles, ports): dense arrays, 8 bytes a slot instead of a Map entry.

/** Set arr[i] = v, filling any gap below i with undefined first (a hole would make JSC store the array sparsely). */
export function setDense<T>(arr: Array<T | undefined>, i: number, v: T | undefined): void {
  if (!Number.isInteger(i) || i < 0) throw new RangeError(`bad table index ${i}`);
  while (arr.length < i) arr.push(undefined);
  arr[i] = v;
}
