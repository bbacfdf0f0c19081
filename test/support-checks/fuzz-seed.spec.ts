import { readFuzzSeed, replayable, seededRandom, shuffled } from '../support/fuzz-seed.js';

describe('FUZZ_SEED', () => {
  it('reads the seed to replay, and picks one from the clock without it', () => {
    expect(readFuzzSeed({ FUZZ_SEED: '12345' })).toBe(12345);
    expect(readFuzzSeed({ FUZZ_SEED: ' -7 ' })).toBe(-7);
    const fresh = readFuzzSeed({});
    expect(Number.isInteger(fresh)).toBe(true);
    expect(fresh).toBeGreaterThanOrEqual(0);
  });

  it('refuses a seed that is not an integer', () => {
    for (const bad of ['abc', '1.5', '1e3', '99999999999999999999']) {
      expect(() => readFuzzSeed({ FUZZ_SEED: bad })).toThrow(/FUZZ_SEED must be an integer/);
    }
  });

  it('names the seed in a failure message', async () => {
    await expect(
      replayable(() => {
        throw new Error('boom');
      })(),
    ).rejects.toThrow(/^boom\n\nReplay this run with FUZZ_SEED=-?\d+$/);
  });

  it('draws the same numbers and shuffles from the same seed, and others from another', () => {
    const draw = (seed: number) => Array.from({ length: 5 }, seededRandom(seed));
    expect(draw(42)).toEqual(draw(42));
    expect(draw(42)).not.toEqual(draw(43));
    expect(draw(42).every((value) => value >= 0 && value < 1)).toBe(true);
    const items = Array.from({ length: 20 }, (_, i) => i);
    expect(shuffled(items, seededRandom(7))).toEqual(shuffled(items, seededRandom(7)));
    expect([...shuffled(items, seededRandom(7))].sort((a, b) => a - b)).toEqual(items);
    expect(shuffled(items, seededRandom(7))).not.toEqual(items);
  });
});
