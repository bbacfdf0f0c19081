import { styleText } from 'node:util';
import type { CliIo, CliStream } from './cli-io.js';
import { escapeControl } from './terminal-text.js';

type Style = 'green' | 'red' | 'yellow' | 'dim' | 'bold';

/**
 * Colour only when writing to a terminal, and never when `NO_COLOR` is set to anything
 * (https://no-color.org), so that piped output and logs never hold escape codes.
 */
export function wantsColour(stream: CliStream, env: NodeJS.ProcessEnv): boolean {
  return stream.isTTY === true && !env['NO_COLOR'];
}

/** Writes a command's human-readable output on stdout, coloured when `wantsColour` says so. */
export class Printer {
  private readonly colour: boolean;

  constructor(private readonly io: CliIo) {
    this.colour = wantsColour(io.stdout, io.env);
  }

  /**
   * Prints one line (or an empty one). Untrusted parts of `text` (from reports, answers,
   * headers, files) must have gone through `escapeControl` first: `text` may hold colour codes.
   */
  line(text = ''): void {
    this.io.stdout.write(`${text}\n`);
  }

  /** `text` in a style when colour is on; unchanged otherwise. */
  paint(style: Style, text: string): string {
    // validateStream: false, because whether to colour was decided above, for stdout.
    return this.colour ? styleText(style, text, { validateStream: false }) : text;
  }

  /**
   * Prints rows under a header, each column as wide as its widest cell. Cells hold values
   * from files and answers, so their control characters are shown escaped.
   */
  table(header: readonly string[], rawRows: ReadonlyArray<readonly string[]>, paintRow?: PaintRow): void {
    const rows = rawRows.map((row) => row.map(escapeControl));
    const widths = header.map((title, column) =>
      Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
    );
    const format = (cells: readonly string[]) =>
      cells.map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column]!)));
    this.line(this.paint('bold', format(header).join('  ').trimEnd()));
    for (const [index, row] of rows.entries()) {
      const cells = format(row);
      this.line((paintRow ? paintRow(cells, index) : cells).join('  ').trimEnd());
    }
  }
}

/** Colours the (padded) cells of one table row. */
export type PaintRow = (cells: string[], index: number) => string[];

/** Prints one JSON document on stdout: what `--json` asks for. */
export function printJson(io: CliIo, document: unknown): void {
  io.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
}
