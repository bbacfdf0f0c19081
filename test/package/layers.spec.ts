import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const LIB = resolve(dirname(fileURLToPath(import.meta.url)), '../../lib');

/**
 * The package's layers, lowest first. Data flows request → guards → pipe → store → dispatcher
 * → handlers, and a file may import only from its own layer or a lower one: so a store never
 * reaches up into the webhook, and the optional entries (board, health, stores on peers, the
 * CLI) sit on top of what they extend. Keys are folders under lib/, or root files.
 */
const LAYERS: readonly (readonly string[])[] = [
  ['utils'],
  ['interfaces', 'payload', 'errors', 'dlr-status.ts', 'messente-dlr.constants.ts'],
  ['accounts', 'alarms', 'analytics', 'config', 'events', 'decorators', 'outcomes', 'stores', 'telemetry'],
  ['dispatch'],
  ['services'],
  ['webhook'],
  ['messente-dlr.module-definition.ts', 'messente-dlr.module.ts'],
  ['board', 'health', 'redis', 'postgres', 'testing'],
  ['cli', 'index.ts'],
];

function layerOf(file: string): number {
  const [head] = relative(LIB, file).split('/');
  const layer = LAYERS.findIndex((keys) => keys.includes(head!));
  if (layer < 0) throw new Error(`lib/${relative(LIB, file)} belongs to no layer: add its folder to LAYERS`);
  return layer;
}

function libFiles(dir = LIB): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? libFiles(join(dir, entry.name))
      : entry.name.endsWith('.ts')
        ? [join(dir, entry.name)]
        : [],
  );
}

/** Every relative module a file imports or re-exports, type-only ones included. */
function relativeImports(file: string): string[] {
  const source = readFileSync(file, 'utf8');
  return [...source.matchAll(/(?:from|import)\s+'(\.[^']+)'/g)].map((match) =>
    resolve(dirname(file), match[1]!.replace(/\.js$/, '.ts')),
  );
}

describe('the layers of lib/', () => {
  const files = libFiles();

  it('finds the source files', () => {
    expect(files.length).toBeGreaterThan(50);
  });

  it('has no import from a lower layer up to a higher one', () => {
    const upward = files.flatMap((file) =>
      relativeImports(file)
        .filter((target) => layerOf(target) > layerOf(file))
        .map((target) => `lib/${relative(LIB, file)} → lib/${relative(LIB, target)}`),
    );
    expect(upward).toEqual([]);
  });

  it('has no file over 350 lines: one concept per file', () => {
    const long = files
      .map((file) => ({
        file: `lib/${relative(LIB, file)}`,
        lines: readFileSync(file, 'utf8').split('\n').length,
      }))
      .filter(({ lines }) => lines > 350);
    expect(long).toEqual([]);
  });
});
