// Every TypeScript block in README.md and docs/*.md must be a quote of a test that runs: this
// suite finds each block's lines, in order and contiguous, in one file of test/readme/. A block
// that only shows a fragment (`constructor(...)`) is quoted from inside a larger test there; a
// block showing one file of an app is that file, imported by a test beside it.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');

/** The ```ts blocks of a Markdown file, each with the line it starts on. */
function tsBlocks(file: string): { line: number; lines: string[] }[] {
  const blocks: { line: number; lines: string[] }[] = [];
  let current: { line: number; lines: string[] } | undefined;
  readFileSync(file, 'utf8')
    .split('\n')
    .forEach((text, index) => {
      if (current === undefined && /^\s*```ts\s*$/.test(text)) {
        current = { line: index + 1, lines: [] };
      } else if (current !== undefined && /^\s*```\s*$/.test(text)) {
        blocks.push(current);
        current = undefined;
      } else if (current !== undefined) {
        current.lines.push(text);
      }
    });
  return blocks;
}

/** Lines compared without indentation (a block may be quoted from inside a class or a test). */
const normalise = (lines: string[]): string[] =>
  lines.map((line) => line.trim()).filter((line) => line !== '');

function contains(haystack: string[], needle: string[]): boolean {
  outer: for (let start = 0; start + needle.length <= haystack.length; start++) {
    for (let i = 0; i < needle.length; i++) if (haystack[start + i] !== needle[i]) continue outer;
    return true;
  }
  return needle.length === 0;
}

const quoteDir = join(root, 'test', 'readme');
const quotes = readdirSync(quoteDir, { recursive: true, encoding: 'utf8' })
  .filter((name) => name.endsWith('.ts') && name !== 'readme-snippets.spec.ts')
  .map((name) => ({ name, lines: normalise(readFileSync(join(quoteDir, name), 'utf8').split('\n')) }));

const docs = [
  'README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => join('docs', name)),
];

describe('README and docs code blocks', () => {
  it('finds blocks to check', () => {
    expect(docs.flatMap((doc) => tsBlocks(join(root, doc))).length).toBeGreaterThan(10);
  });

  for (const doc of docs) {
    for (const block of tsBlocks(join(root, doc))) {
      it(`${doc}:${block.line} is quoted from a test in test/readme/`, () => {
        const needle = normalise(block.lines);
        const found = quotes.filter((quote) => contains(quote.lines, needle)).map((quote) => quote.name);
        expect({ block: `${doc}:${block.line}`, quotedIn: found.length > 0 ? 'a test' : 'nowhere' }).toEqual({
          block: `${doc}:${block.line}`,
          quotedIn: 'a test',
        });
      });
    }
  }
});
