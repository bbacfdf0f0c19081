/**
 * How deep a callback body may nest, counting the body itself as level 1: Messente's reports
 * nest 2 levels (`price_info`). Deeper bodies are refused before anything walks them, since
 * stores serialise reports with `JSON.stringify`, which is recursive and overflows the stack
 * a few thousand levels down.
 */
export const MAX_DLR_BODY_DEPTH = 32;

/**
 * True when `value` has arrays or objects nested more than `maxDepth` levels (a bare
 * object or array is level 1). Iterative, and it stops at the first level too deep, so a
 * hostile body costs no more than a walk of its first `maxDepth + 1` levels.
 */
export function nestsDeeperThan(value: unknown, maxDepth: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (current === null || typeof current !== 'object') continue;
    if (depth > maxDepth) return true;
    for (const child of Object.values(current)) {
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
    }
  }
  return false;
}
