/** Time-series charts of one task, drawn by uPlot. */
import uPlot from 'uplot';
import { h } from './dom';
import { formatRate, formatSeconds } from './format';

/** One line of a chart. */
export interface ChartLine {
  label: string;
  values: (number | null)[];
  /** A colour of the palette in styles.css's terms: `blue`, `red`, `orange`, `purple`. */
  color: keyof typeof COLORS;
}

export interface ChartSpec {
  title: string;
  /** How the values read: a rate per second or a duration in seconds. */
  unit: 'rate' | 'seconds';
  /** Unix seconds. */
  timestamps: number[];
  lines: ChartLine[];
  testId: string;
}

// uPlot draws on a canvas, so its colours are values here rather than classes in styles.css.
const COLORS = {
  blue: '#3274d9',
  red: '#d44a3a',
  orange: '#e0752d',
  purple: '#8f3bb8',
  green: '#37872d',
} as const;
const AXIS = '#5b6472';
const GRID = '#e4e7ec';
const FONT = '11px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
const HEIGHT = 180;

/** Charts in a row that share the cursor and resize with the page; `destroy` when done. */
export class ChartGroup {
  readonly element: HTMLElement;
  private readonly charts: uPlot[] = [];
  private readonly observer: ResizeObserver;
  private readonly sync = `tasklens-${Math.random().toString(36).slice(2)}`;

  constructor(specs: ChartSpec[]) {
    this.element = h('div', { class: 'chart-row' });
    const panels: HTMLElement[] = [];
    for (const spec of specs) {
      const target = h('div', { class: 'chart-canvas' });
      const panel = h(
        'figure',
        { class: 'chart', 'data-testid': spec.testId },
        h('figcaption', null, spec.title),
        target,
      );
      panels.push(panel);
      this.element.appendChild(panel);
      const allEmpty = spec.lines.every((line) => line.values.every((value) => value === null));
      if (spec.timestamps.length === 0 || allEmpty) {
        target.appendChild(h('p', { class: 'chart-empty' }, 'No data in this range'));
        continue;
      }
      this.charts.push(new uPlot(this.options(spec), this.data(spec), target));
    }
    this.observer = new ResizeObserver(() => this.resize());
    this.observer.observe(this.element);
  }

  destroy(): void {
    this.observer.disconnect();
    for (const chart of this.charts) chart.destroy();
    this.charts.length = 0;
  }

  private resize(): void {
    for (const chart of this.charts) {
      const width = this.widthOf(chart.root.parentElement);
      if (width > 0 && Math.abs(width - chart.width) > 1) chart.setSize({ width, height: HEIGHT });
    }
  }

  private widthOf(target: Element | null): number {
    return Math.floor(target?.clientWidth ?? 0);
  }

  private data(spec: ChartSpec): uPlot.AlignedData {
    return [spec.timestamps, ...spec.lines.map((line) => line.values)];
  }

  private options(spec: ChartSpec): uPlot.Options {
    const format = spec.unit === 'rate' ? formatRate : formatSeconds;
    const axis: uPlot.Axis = {
      stroke: AXIS,
      font: FONT,
      grid: { stroke: GRID, width: 1 },
      ticks: { stroke: GRID, width: 1 },
    };
    return {
      // The panel is not in the document yet; the resize observer corrects the width.
      width: 400,
      height: HEIGHT,
      cursor: { sync: { key: this.sync }, drag: { x: false, y: false } },
      legend: { live: true },
      scales: { y: { range: (_chart, _min, max) => [0, max > 0 ? max * 1.1 : 1] } },
      axes: [
        axis,
        {
          ...axis,
          size: 64,
          values: (_chart, ticks) => ticks.map((tick) => format(tick)),
        },
      ],
      series: [
        {},
        ...spec.lines.map((line) => ({
          label: line.label,
          stroke: COLORS[line.color],
          width: 1.5,
          fill: `${COLORS[line.color]}1a`,
          spanGaps: false,
          value: (_chart: uPlot, value: number | null) => (value === null ? '—' : format(value)),
        })),
      ],
    };
  }
}
