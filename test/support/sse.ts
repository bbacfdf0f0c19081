/** One server-sent event as it came over the wire. */
export interface SseEvent {
  /** The block exactly as framed, without its blank line. */
  readonly block: string;
  /** `event:` (default `message`). */
  readonly event: string;
  /** The `data:` lines joined. */
  readonly data: string;
  readonly id: string | undefined;
  readonly retry: number | undefined;
}

/** An open server-sent-events response read event by event. */
export interface SseReader {
  readonly response: Response;
  /** The next event; rejects after `timeoutMs` or when the stream ends. */
  next(timeoutMs?: number): Promise<SseEvent>;
  /** Resolves true when the server ends the stream within `timeoutMs`. */
  ended(timeoutMs?: number): Promise<boolean>;
  close(): void;
}

/** Opens `url` with fetch and reads it as an event stream (comments are skipped). */
export async function openSse(url: string, headers: Record<string, string> = {}): Promise<SseReader> {
  const controller = new AbortController();
  const response = await fetch(url, {
    headers: { accept: 'text/event-stream', ...headers },
    signal: controller.signal,
  });
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let done = false;
  const read = async (timeoutMs: number): Promise<void> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no data within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      const chunk = await Promise.race([reader.read(), timeout]);
      if (chunk.done) done = true;
      else buffer += decoder.decode(chunk.value, { stream: true });
    } finally {
      clearTimeout(timer);
    }
  };
  return {
    response,
    async next(timeoutMs = 2_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const end = buffer.indexOf('\n\n');
        if (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const lines = block.split('\n').filter((line) => !line.startsWith(':'));
          if (lines.length === 0) continue;
          const field = (name: string) =>
            lines
              .filter((line) => line.startsWith(`${name}:`))
              .map((line) => line.slice(name.length + 1).trimStart());
          const retry = field('retry')[0];
          return {
            block,
            event: field('event')[0] ?? 'message',
            data: field('data').join('\n'),
            id: field('id')[0],
            retry: retry === undefined ? undefined : Number(retry),
          };
        }
        if (done) throw new Error('the stream ended');
        await read(Math.max(deadline - Date.now(), 1));
      }
    },
    async ended(timeoutMs = 2_000) {
      const deadline = Date.now() + timeoutMs;
      try {
        while (!done && Date.now() < deadline) await read(Math.max(deadline - Date.now(), 1));
      } catch {
        return done;
      }
      return done;
    },
    close: () => controller.abort(),
  };
}
