/** Default route of the board, relative to the global prefix. */
export const DEFAULT_BOARD_PATH = 'messente/board';

/** Injection token of the board's resolved options (`ResolvedBoardOptions`). */
export const BOARD_OPTIONS = Symbol('MESSENTE_DLR_BOARD_OPTIONS');

/** Pending changes `GET {path}/api/pending` lists at most. */
export const BOARD_PENDING_LIMIT = 100;

/**
 * Longest id `GET {path}/api/messages/:id` looks up; Messente's ids are 36-character UUIDs.
 * Fastify's own limit on a route parameter is the same (414 past it).
 */
export const BOARD_MAX_ID_LENGTH = 100;

/** The delay, in ms, the live stream asks the browser to wait before reconnecting. */
export const BOARD_RECONNECT_MS = 1_000;

/** Changes `GET {path}/api/recent` answers when no `limit` is given. */
export const BOARD_RECENT_DEFAULT = 50;

/** The largest `limit` `GET {path}/api/recent` takes. */
export const BOARD_RECENT_MAX = 500;

/** Messages `GET {path}/api/search` answers at most. */
export const BOARD_SEARCH_LIMIT = 50;

/** Longest `q` `GET {path}/api/search` takes, in characters: a `ref` or an id of up to 255. */
export const BOARD_MAX_QUERY_LENGTH = 255;

/**
 * The header a state-changing board request must carry with the value `1`. The page sends it;
 * a cross-site form cannot set a header, and a cross-site fetch that sets one needs a CORS
 * preflight, which the board never grants.
 */
export const BOARD_REQUEST_HEADER = 'x-messente-board';
