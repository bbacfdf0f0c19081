/**
 * Freezes an object and everything reachable from it, so no handler can alter a stored
 * report. Iterative: a 64 KiB body can nest thousands of levels deep.
 */
export function deepFreeze<T>(value: T): T {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const current = stack.pop();
    if (current === null || typeof current !== 'object' || Object.isFrozen(current)) continue;
    Object.freeze(current);
    for (const child of Object.values(current)) stack.push(child);
  }
  return value;
}
