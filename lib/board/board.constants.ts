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
