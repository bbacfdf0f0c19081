'use strict';
// Shared smoke test, run by packaging/check.sh inside a throwaway app (ESM/Nest 12 and
// CommonJS/Nest 11). It takes already-loaded modules so it resolves nothing itself: the app's
// own import()/require() is what is being tested.

const SECRET = 's';

async function runSmoke({ label, common, core, dlr, testing, board }) {
  const { Module, Injectable } = common;
  const { NestFactory } = core;
  const { MessenteDlrModule, OnDlrStatus, DeliveryStatusEvents } = dlr;
  const { signDlr, dlrPayload } = testing;

  for (const [name, value] of Object.entries({
    MessenteDlrModule,
    OnDlrStatus,
    DeliveryStatusEvents,
    signDlr,
    dlrPayload,
  })) {
    if (typeof value !== 'function')
      throw new Error(`export ${name} is ${typeof value}, expected a function`);
  }

  // What `@Injectable() class DlrHandler { @OnDlrStatus('*') onAny(e) {} }` compiles to.
  class DlrHandler {
    constructor() {
      this.calls = [];
    }
    onAny(event) {
      this.calls.push(event);
    }
  }
  Reflect.decorate(
    [OnDlrStatus('*')],
    DlrHandler.prototype,
    'onAny',
    Object.getOwnPropertyDescriptor(DlrHandler.prototype, 'onAny'),
  );
  Injectable()(DlrHandler);

  class AppModule {}
  Module({
    imports: [
      MessenteDlrModule.forRoot({ signatureSecrets: [SECRET], allowedIps: ['127.0.0.1'] }),
      board.MessenteDlrBoardModule.forRoot({ insecure: true }),
    ],
    providers: [DlrHandler],
  })(AppModule);

  const app = await NestFactory.create(AppModule, { rawBody: true, logger: ['error', 'warn'] });
  try {
    const streamed = [];
    app.get(DeliveryStatusEvents).changes$.subscribe((e) => streamed.push(e));

    await app.listen(0, '127.0.0.1');
    const { port } = app.getHttpServer().address();

    // The board's live stream, open before the report arrives.
    const boardUrl = `http://127.0.0.1:${port}/messente/board`;
    const stream = await fetch(`${boardUrl}/api/changes`);
    if (stream.status !== 200) throw new Error(`board stream: expected 200, got ${stream.status}`);
    const streamReader = stream.body.getReader();

    const payload = dlrPayload({ status: 'DELIVRD' });
    const body = JSON.stringify(payload);
    const url = `http://127.0.0.1:${port}/messente/dlr`;
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-messente-signature': signDlr(body, SECRET) },
      body,
    });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`signed report: expected 200, got ${res.status}: ${text}`);

    const handler = app.get(DlrHandler);
    if (handler.calls.length !== 1)
      throw new Error(`handler called ${handler.calls.length} times, expected 1`);
    const event = handler.calls[0];
    if (event.messageId !== payload.message_id || event.status !== 'DELIVRD') {
      throw new Error(
        `handler got unexpected event: ${JSON.stringify({ messageId: event.messageId, status: event.status })}`,
      );
    }
    if (streamed.length !== 1)
      throw new Error(`DeliveryStatusEvents.changes$ emitted ${streamed.length} times, expected 1`);

    // A wrong signature must be refused, so we know the 200 above was a verified one.
    const bad = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-messente-signature': signDlr(body, 'wrong') },
      body: JSON.stringify(dlrPayload()),
    });
    await bad.text();
    if (bad.status !== 401) throw new Error(`wrongly signed report: expected 401, got ${bad.status}`);
    if (handler.calls.length !== 1) throw new Error('handler was called for a wrongly signed report');

    // The package's bin, as the app's developer runs it: npx messente-dlr trigger.
    const trigger = await npxMessenteDlr(['trigger', 'ACCEPTD', 'DELIVRD', '--url', url, '--json']);
    if (trigger.code !== 0)
      throw new Error(`npx messente-dlr trigger exited ${trigger.code}: ${trigger.stderr}`);
    const outcomes = JSON.parse(trigger.stdout).results.map((r) => `${r.status} ${r.httpStatus} ${r.body}`);
    const expected = ['ACCEPTD 200 {"outcome":"change"}', 'DELIVRD 200 {"outcome":"change"}'];
    if (JSON.stringify(outcomes) !== JSON.stringify(expected)) {
      throw new Error(`npx messente-dlr trigger answers: ${JSON.stringify(outcomes)}`);
    }
    for (let waited = 0; handler.calls.length < 3 && waited < 2000; waited += 20) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    if (handler.calls.map((e) => e.status).join(' ') !== 'DELIVRD ACCEPTD DELIVRD') {
      throw new Error(`after trigger, handler saw: ${handler.calls.map((e) => e.status).join(' ')}`);
    }

    console.log(`  [${label}] POST /messente/dlr -> 200, handler called once; bad signature -> 401`);
    console.log(
      `  [${label}] npx messente-dlr trigger ACCEPTD DELIVRD -> 200 change, 200 change; handler called`,
    );

    let sse = '';
    // Nest opens the stream with a blank line.
    while (!sse.trimStart().includes('\n\n')) {
      const chunk = await streamReader.read();
      if (chunk.done) throw new Error(`board stream ended early: ${JSON.stringify(sse)}`);
      sse += Buffer.from(chunk.value).toString('utf8');
    }
    if (!sse.trimStart().startsWith('event: change\n') || !sse.includes(payload.message_id))
      throw new Error(`board stream: unexpected first event ${JSON.stringify(sse)}`);
    await streamReader.cancel();
    const page = await fetch(boardUrl);
    const html = await page.text();
    if (page.status !== 200 || !html.startsWith('<!doctype html>'))
      throw new Error(`board page: expected 200 and HTML, got ${page.status}`);
    console.log(`  [${label}] board: page 200, stream sent the change`);
  } finally {
    await app.close();
  }
}

/** Runs `npx messente-dlr ...args` in this app (the secret in the environment); never throws. */
function npxMessenteDlr(args) {
  const { execFile } = require('node:child_process');
  return new Promise((resolve) => {
    execFile(
      'npx',
      ['--no', '--', 'messente-dlr', ...args],
      { env: { ...process.env, MESSENTE_API_PASSWORD: SECRET }, timeout: 30_000 },
      (error, stdout, stderr) => resolve({ code: error ? (error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** Exits 0 on success, 1 with the error otherwise; never hangs for more than 60 s. */
function main(label, load) {
  const timer = setTimeout(() => {
    console.error(`  [${label}] timed out`);
    process.exit(1);
  }, 60_000);
  timer.unref();
  Promise.resolve()
    .then(load)
    .then((mods) => runSmoke({ label, ...mods }))
    .then(
      () => process.exit(0),
      (err) => {
        console.error(`  [${label}] ${err && err.stack ? err.stack : err}`);
        if (err && err.code) console.error(`  [${label}] error code: ${err.code}`);
        process.exit(1);
      },
    );
}

module.exports = { main, runSmoke };
