import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
// Inside the repo, so that the compiled package resolves its other dependencies as usual.
const OUT = join(ROOT, 'node_modules', '.cache', 'messente-dlr-without-otel');

/** Makes `@opentelemetry/api` unresolvable for both `import` and `require` in the child. */
const HIDE_OTEL_API = `
import Module, { register } from 'node:module';
const hidden = (specifier) => specifier === '@opentelemetry/api' || specifier.startsWith('@opentelemetry/api/');
register('data:text/javascript,' + encodeURIComponent(\`
  export async function resolve(specifier, context, next) {
    if (specifier === '@opentelemetry/api' || specifier.startsWith('@opentelemetry/api/')) {
      const error = new Error('Cannot find package ' + specifier);
      error.code = 'ERR_MODULE_NOT_FOUND';
      throw error;
    }
    return next(specifier, context);
  }\`));
const original = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (hidden(request)) {
    const error = new Error("Cannot find module '" + request + "'");
    error.code = 'MODULE_NOT_FOUND';
    throw error;
  }
  return original.call(this, request, ...rest);
};
`;

/** Boots the compiled package, posts one signed report, prints what happened as JSON. */
const APP = `
import 'reflect-metadata';
import { createRequire } from 'node:module';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DeliveryReportStats, MessenteDlrModule } from './dist/index.js';
import { dlrPayload, signDlr } from './dist/testing/index.js';

const apiImport = await import('@opentelemetry/api').then(() => 'loaded', (error) => error.code);
let apiRequire;
try { createRequire(import.meta.url)('@opentelemetry/api'); apiRequire = 'loaded'; } catch (error) { apiRequire = error.code; }

class App {}
Module({ imports: [MessenteDlrModule.forRoot({ signatureSecrets: ['s3cret'], allowedIps: false })] })(App);
const app = await NestFactory.create(App, { rawBody: true, logger: false });
await app.listen(0, '127.0.0.1');
const body = JSON.stringify(dlrPayload());
const response = await fetch('http://127.0.0.1:' + app.getHttpServer().address().port + '/messente/dlr', {
  method: 'POST',
  headers: { 'content-type': 'application/json', 'x-messente-signature': signDlr(body, 's3cret') },
  body,
});
const answer = { status: response.status, body: await response.json() };
const { requests, reports } = app.get(DeliveryReportStats).snapshot();
await app.close();
console.log(JSON.stringify({ apiImport, apiRequire, answer, requests, reports }));
`;

describe('without @opentelemetry/api installed', () => {
  beforeAll(() => {
    rmSync(OUT, { recursive: true, force: true });
    mkdirSync(OUT, { recursive: true });
    execFileSync(
      process.execPath,
      [
        join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'),
        ...['-p', join(ROOT, 'tsconfig.build.json'), '--outDir', join(OUT, 'dist')],
        ...['--declaration', 'false', '--sourceMap', 'false', '--inlineSources', 'false'],
      ],
      { cwd: ROOT, stdio: 'pipe' },
    );
    writeFileSync(join(OUT, 'package.json'), '{ "type": "module" }\n');
    writeFileSync(join(OUT, 'hide-otel-api.mjs'), HIDE_OTEL_API);
    writeFileSync(join(OUT, 'app.mjs'), APP);
  }, 120_000);
  afterAll(() => rmSync(OUT, { recursive: true, force: true }));

  it('the main entry imports, boots and accepts a report, counting it in DeliveryReportStats', () => {
    const child = spawnSync(process.execPath, ['--import', './hide-otel-api.mjs', 'app.mjs'], {
      cwd: OUT,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(child.stderr).not.toMatch(/Error/);
    expect(child.status).toBe(0);
    expect(JSON.parse(child.stdout.trim().split('\n').pop()!)).toEqual({
      apiImport: 'ERR_MODULE_NOT_FOUND',
      apiRequire: 'MODULE_NOT_FOUND',
      answer: { status: 200, body: { outcome: 'change' } },
      requests: { accepted: 1, refused: {} },
      reports: { change: 1, duplicate: 0, stale: 0, redelivery: 0 },
    });
  });
});
