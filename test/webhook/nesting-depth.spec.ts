import { MAX_DLR_BODY_DEPTH, nestsDeeperThan } from '../../lib/utils/nesting-depth.js';

/** `depth` levels: an object holding arrays nested `depth - 1` deep. */
function nested(depth: number): unknown {
  return JSON.parse(`{"a":${'['.repeat(depth - 1)}${']'.repeat(depth - 1)}}`);
}

describe('nestsDeeperThan', () => {
  it('counts the body itself as level 1, arrays and objects alike', () => {
    expect(MAX_DLR_BODY_DEPTH).toBe(32);
    expect(nestsDeeperThan({}, 1)).toBe(false);
    expect(nestsDeeperThan({ a: {} }, 1)).toBe(true);
    expect(nestsDeeperThan({ a: 1, b: 'x', c: null }, 1)).toBe(false);
    expect(nestsDeeperThan([[{ x: [] }]], 4)).toBe(false);
    expect(nestsDeeperThan([[{ x: [] }]], 3)).toBe(true);
  });

  it('accepts 32 levels and refuses 33, and 100 000, without a stack overflow', () => {
    expect(nestsDeeperThan(nested(32), MAX_DLR_BODY_DEPTH)).toBe(false);
    expect(nestsDeeperThan(nested(33), MAX_DLR_BODY_DEPTH)).toBe(true);
    expect(nestsDeeperThan(nested(100_000), MAX_DLR_BODY_DEPTH)).toBe(true);
  });

  it('finds a deep branch next to shallow ones', () => {
    const body = { a: [1, 2, { b: 3 }], deep: nested(40), z: { y: {} } };
    expect(nestsDeeperThan(body, MAX_DLR_BODY_DEPTH)).toBe(true);
  });
});
