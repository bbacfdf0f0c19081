/// <reference lib="dom" />

// istanbul ignore file: this code runs in the browser from its source text (board-page.script.ts),
// where coverage counters inserted into it would be undefined.

/** One bar of `bars`: its label (shown as text), its code (the tooltip) and its value. */
export interface BoardChartBar {
  readonly label: string;
  readonly code: string;
  readonly value: number;
}

/** One part of a `stacked` bar: its count, its words and its CSS class (which gives its colour). */
export interface BoardChartPart {
  readonly value: number;
  readonly words: string;
  readonly className: string;
}

/**
 * The board's own small charts, as inline SVG: no library, nothing loaded from elsewhere.
 * Every text (a reason, a channel) enters as a text node; geometry goes in attributes and
 * colours come from CSS classes of the page's stylesheet, as the page's Content-Security-Policy
 * allows no inline style. Each chart is `role="img"` with an `aria-label` that says its numbers
 * in words, and each mark carries a `<title>`, so that its numbers read without seeing it.
 * Browser code, inlined by its source text: nothing from outside its body but types.
 */
export function boardPageChart() {
  const ns = 'http://www.w3.org/2000/svg';

  function node<K extends keyof SVGElementTagNameMap>(
    tag: K,
    attributes: Readonly<Record<string, string | number>> = {},
    children: readonly (SVGElement | string)[] = [],
  ): SVGElementTagNameMap[K] {
    const element = document.createElementNS(ns, tag);
    for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
    element.append(...children);
    return element;
  }

  function title(text: string): SVGTitleElement {
    return node('title', {}, [text]);
  }

  /** An SVG image of `width` × `height` user units, scaling to its box, described by `label`. */
  function image(className: string, width: number, height: number, label: string): SVGSVGElement {
    return node('svg', {
      class: 'chart ' + className,
      viewBox: `0 0 ${width} ${height}`,
      width,
      height,
      role: 'img',
      'aria-label': label,
    });
  }

  /**
   * One bar cut into parts in proportion to their values (delivered, failed, pending of a
   * channel), an empty outline when all are 0.
   */
  function stacked(parts: readonly BoardChartPart[]): SVGSVGElement {
    const width = 120;
    const height = 14;
    const label = parts.map((part) => part.value + ' ' + part.words).join(', ');
    const svg = image('stacked', width, height, label);
    // Stretched to whatever width the page's stylesheet gives it.
    svg.setAttribute('preserveAspectRatio', 'none');
    svg.append(node('rect', { class: 'frame', x: 0.5, y: 0.5, width: width - 1, height: height - 1 }));
    const total = parts.reduce((sum, part) => sum + part.value, 0);
    let x = 0;
    for (const part of parts) {
      if (part.value === 0 || total === 0) continue;
      const w = (part.value / total) * width;
      svg.append(
        node('rect', { class: part.className, x, y: 0, width: w, height }, [
          title(part.value + ' ' + part.words),
        ]),
      );
      x += w;
    }
    return svg;
  }

  /** Horizontal bars with their labels and values written beside them, longest first as given. */
  function bars(caption: string, items: readonly BoardChartBar[]): SVGSVGElement {
    const width = 420;
    const row = 22;
    const labelWidth = 190;
    const valueWidth = 44;
    const max = Math.max(1, ...items.map((item) => item.value));
    const label = caption + ': ' + items.map((item) => item.label + ' ' + item.value).join(', ');
    const svg = image('bars', width, Math.max(row, items.length * row), label);
    items.forEach((item, index) => {
      const y = index * row;
      const w = Math.max(1, (item.value / max) * (width - labelWidth - valueWidth));
      const group = node('g', { class: 'bar' }, [
        title(item.label + ' (' + item.code + '): ' + item.value),
        node('text', { x: labelWidth - 6, y: y + 15, 'text-anchor': 'end' }, [item.label]),
        node('rect', { class: 'bar-failed', x: labelWidth, y: y + 4, width: w, height: row - 8 }),
        node('text', { class: 'value', x: labelWidth + w + 4, y: y + 15 }, [String(item.value)]),
      ]);
      group.dataset['code'] = item.code;
      group.dataset['value'] = String(item.value);
      svg.append(group);
    });
    return svg;
  }

  /** Seconds the time axis spans, from 1 s to a day, on a log scale (the histogram's range). */
  const axisEnd = 86_400;
  const xOf = (seconds: number, width: number) =>
    (Math.log(Math.max(1, Math.min(axisEnd, seconds))) / Math.log(axisEnd)) * width;

  /**
   * The time to deliver of one row: a band from the median to the 90th percentile, the median
   * marked, on a log axis from 1 s to 1 day (gridlines at a minute and an hour); empty
   * without deliveries.
   */
  function timeRange(p50: number | null, p90: number | null, words: string): SVGSVGElement {
    const width = 160;
    const height = 14;
    const svg = image('time', width, height, words);
    for (const tick of [60, 3_600]) {
      const x = xOf(tick, width);
      svg.append(node('line', { class: 'grid', x1: x, x2: x, y1: 0, y2: height }));
    }
    if (p50 === null || p90 === null) return svg;
    const from = xOf(p50, width);
    const to = Math.max(from + 2, xOf(p90, width));
    svg.append(
      node('rect', { class: 'time-span', x: from, y: 3, width: to - from, height: height - 6 }),
      node('rect', { class: 'time-median', x: Math.max(0, from - 1.5), y: 0, width: 3, height }),
    );
    return svg;
  }

  /** The axis above the `timeRange` column: 1 s, 1 min, 1 h, 1 d. */
  function timeAxis(): SVGSVGElement {
    const width = 160;
    const svg = image('time-axis', width, 14, 'log scale from 1 second to 1 day');
    svg.setAttribute('aria-hidden', 'true');
    const ticks: [number, string, string][] = [
      [1, '1 s', 'start'],
      [60, '1 min', 'middle'],
      [3_600, '1 h', 'middle'],
      [axisEnd, '1 d', 'end'],
    ];
    for (const [seconds, text, anchor] of ticks) {
      svg.append(node('text', { x: xOf(seconds, width), y: 11, 'text-anchor': anchor }, [text]));
    }
    return svg;
  }

  return { stacked, bars, timeRange, timeAxis };
}

/** What `boardPageChart` returns. */
export type BoardPageChart = ReturnType<typeof boardPageChart>;
