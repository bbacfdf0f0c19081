import { createHash } from 'node:crypto';
import { Script } from 'node:vm';
import { FINAL_STATUSES, KNOWN_STATUSES } from '../../lib/dlr-status.js';
import { BOARD_PAGE_CSP, BOARD_PAGE_HTML } from '../../lib/board/board-page.js';
import { BOARD_PAGE_SCRIPT } from '../../lib/board/board-page.script.js';
import { boardState } from '../../lib/board/board-views.js';

describe('the board page script (built from lib/board/page/)', () => {
  it('is one classic script that parses on its own, inlined in the page once', () => {
    expect(() => new Script(BOARD_PAGE_SCRIPT, { filename: 'board-page.js' })).not.toThrow();
    expect(BOARD_PAGE_HTML.split(`<script>${BOARD_PAGE_SCRIPT}</script>`)).toHaveLength(2);
    // Type syntax left in it would not parse above; an import would not run in a classic script.
    expect(BOARD_PAGE_SCRIPT).not.toMatch(/^\s*(import|export)\s/m);
  });

  it('is allowed by the policy through the hash of its exact text', () => {
    const hash = createHash('sha256').update(BOARD_PAGE_SCRIPT).digest('base64');
    expect(BOARD_PAGE_CSP).toContain(`script-src 'sha256-${hash}'`);
  });

  it('has no list of statuses of its own: the server sends each status with its state', () => {
    for (const status of KNOWN_STATUSES) expect(BOARD_PAGE_SCRIPT).not.toContain(status);
  });

  it('classifies statuses in one place: delivered, failed, or in progress until final', () => {
    expect(KNOWN_STATUSES.map((status) => [status, boardState(status)])).toEqual(
      KNOWN_STATUSES.map((status) => [
        status,
        !FINAL_STATUSES.includes(status)
          ? 'in progress'
          : status === 'DELIVRD' || status === 'SEEN'
            ? 'delivered'
            : 'failed',
      ]),
    );
    expect(boardState('SOMETHING_NEW')).toBe('in progress');
  });
});
