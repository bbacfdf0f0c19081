import type { INestApplication, ModuleMetadata } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Module } from '@nestjs/common';
import { signDlr } from '../../lib/testing/index.js';

/** The two HTTP adapters every e2e suite runs on. */
export const ADAPTERS = ['express', 'fastify'] as const;
export type AdapterName = (typeof ADAPTERS)[number];

/** How to build a test app. */
export interface TestAppOptions {
  /** Trust X-Forwarded-For (Express `trust proxy`, Fastify `trustProxy`). */
  trustProxy?: boolean;
  /** Create the app with `{ rawBody: true }`; default true. */
  rawBody?: boolean;
  globalPrefix?: string;
  /** Address to listen on; default 127.0.0.1. `::` listens dual-stack. */
  host?: string;
  /**
   * Destroy open connections when the app closes (Nest's `forceCloseConnections`): for apps
   * whose clients, like a browser, may keep a stream or an idle socket open.
   */
  forceCloseConnections?: boolean;
  /** Port to listen on; default a free one. */
  port?: number;
}

/** A running app on a loopback port. */
export interface TestApp {
  readonly app: INestApplication;
  readonly baseUrl: string;
  close(): Promise<void>;
}

/** Starts a real Nest app on 127.0.0.1 with the given module metadata. */
export async function startApp(
  adapter: AdapterName,
  metadata: ModuleMetadata,
  options: TestAppOptions = {},
): Promise<TestApp> {
  @Module(metadata)
  class TestAppModule {}
  const trustProxy = options.trustProxy ?? false;
  const httpAdapter = adapter === 'fastify' ? new FastifyAdapter({ trustProxy }) : new ExpressAdapter();
  const app = await NestFactory.create(TestAppModule, httpAdapter, {
    rawBody: options.rawBody ?? true,
    logger: process.env.TEST_LOGS ? undefined : false,
    forceCloseConnections: options.forceCloseConnections ?? false,
  });
  if (adapter === 'express') app.getHttpAdapter().getInstance().set('trust proxy', trustProxy);
  if (options.globalPrefix) app.setGlobalPrefix(options.globalPrefix);
  const host = options.host ?? '127.0.0.1';
  await app.listen(options.port ?? 0, host);
  // fetch (undici) keeps idle sockets for 4 s and Node's server closes them after 5 s; on a busy
  // machine the server's timer can win the race and reset a request just sent (ECONNRESET).
  (app.getHttpServer() as { keepAliveTimeout: number }).keepAliveTimeout = 60_000;
  const address = app.getHttpServer().address() as { port: number };
  // A dual-stack server is reached over IPv4, so that the app sees ::ffff:127.0.0.1.
  const urlHost = host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return { app, baseUrl: `http://${urlHost}:${address.port}`, close: () => app.close() };
}

/** What a post answered. */
export interface PostResult {
  readonly status: number;
  readonly body: unknown;
  readonly text: string;
}

/** Options of `postDlr`. */
export interface PostOptions {
  /** Sign with this secret; omit to send no signature. */
  secret?: string;
  headers?: Record<string, string>;
  path?: string;
}

/** Posts a body (an object, serialised, or a raw string) to the webhook. */
export async function postDlr(
  baseUrl: string,
  body: unknown,
  options: PostOptions = {},
): Promise<PostResult> {
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  const headers: Record<string, string> = { 'content-type': 'application/json', ...options.headers };
  if (options.secret !== undefined) headers['x-messente-signature'] = signDlr(raw, options.secret);
  const response = await fetch(`${baseUrl}/${options.path ?? 'messente/dlr'}`, {
    method: 'POST',
    headers,
    body: raw,
  });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = null;
  }
  return { status: response.status, body: parsed, text };
}

/** Resolves after `ms` milliseconds. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` until it returns true or `timeoutMs` passes. */
export async function waitFor(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error('waitFor: condition not met in time');
    await delay(5);
  }
}
