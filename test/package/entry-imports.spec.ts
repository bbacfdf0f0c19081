import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const LIB = resolve(dirname(fileURLToPath(import.meta.url)), '../../lib');
const OPTIONAL_PEERS = [
  'ioredis',
  'pg',
  '@nestjs/cqrs',
  '@nestjs/event-emitter',
  '@nestjs/platform-fastify',
  '@nestjs/terminus',
  '@opentelemetry/api',
];

/** Every module specifier a file imports at load time (type-only imports are erased). */
function staticImports(file: string): string[] {
  const source = readFileSync(file, 'utf8');
  const specifiers: string[] = [];
  for (const match of source.matchAll(
    /^(?:import|export)\s+(type\s+)?[^'"]*?from\s+'([^']+)'|^import\s+'([^']+)'/gm,
  )) {
    if (match[1]) continue;
    specifiers.push(match[2] ?? match[3]!);
  }
  return specifiers;
}

/** The package specifiers reachable through static imports from an entry file. */
function reachablePackages(entry: string): Set<string> {
  const packages = new Set<string>();
  const visited = new Set<string>();
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (visited.has(file)) continue;
    visited.add(file);
    for (const specifier of staticImports(file)) {
      if (specifier.startsWith('.')) queue.push(resolve(dirname(file), specifier.replace(/\.js$/, '.ts')));
      else packages.add(specifier);
    }
  }
  return packages;
}

describe('entry points', () => {
  it('the main entry loads no optional peer', () => {
    const packages = [...reachablePackages(resolve(LIB, 'index.ts'))];
    expect(packages).toEqual(expect.arrayContaining(['@nestjs/common', '@nestjs/core']));
    expect(packages.filter((name) => OPTIONAL_PEERS.some((peer) => name.startsWith(peer)))).toEqual([]);
  });

  it('the health entry loads terminus and no other optional peer', () => {
    const packages = [...reachablePackages(resolve(LIB, 'health/index.ts'))];
    expect(packages).toContain('@nestjs/terminus');
    const others = packages.filter((name) => name !== '@nestjs/terminus');
    expect(others.filter((name) => OPTIONAL_PEERS.some((peer) => name.startsWith(peer)))).toEqual([]);
  });

  it('the testing entry loads no optional peer', () => {
    const packages = [...reachablePackages(resolve(LIB, 'testing/index.ts'))];
    expect(packages.filter((name) => OPTIONAL_PEERS.some((peer) => name.startsWith(peer)))).toEqual([]);
  });

  it('the board entry loads no optional peer, and the main entry none of the board', () => {
    const packages = [...reachablePackages(resolve(LIB, 'board/index.ts'))];
    expect(packages.filter((name) => OPTIONAL_PEERS.some((peer) => name.startsWith(peer)))).toEqual([]);
    const main = readFileSync(resolve(LIB, 'index.ts'), 'utf8');
    expect(main).not.toMatch(/from '\.\/board\//);
  });

  it('pg is loaded by the postgres entry alone', () => {
    expect([...reachablePackages(resolve(LIB, 'postgres/index.ts'))]).toContain('pg');
    expect([...reachablePackages(resolve(LIB, 'index.ts'))]).not.toContain('pg');
  });
});
