/**
 * What a rendered chart must show, counted from the figure JSON in the test
 * (independently of the builders): one SVG marker per finite data point of
 * every trace that draws markers (scatter markers, box/violin "all" points).
 */
import type { Page } from 'playwright-core';
import type { Figure } from '../../src/viz/figure.js';

export function expectedPoints(figure: Figure): number {
  let n = 0;
  for (const t of figure.data) {
    if (t.type === 'scatter' && String(t.mode ?? '').includes('markers')) {
      const x = t.x as unknown[], y = t.y as unknown[];
      n += y.filter((v, i) => isNum(v) && x[i] !== null && x[i] !== undefined).length;
    } else if ((t.type === 'box' && t.boxpoints === 'all') || (t.type === 'violin' && t.points === 'all')) {
      n += (t.y as unknown[]).filter(isNum).length;
    }
  }
  return n;
}

function isNum(v: unknown): boolean {
  return typeof v === 'number' && Number.isFinite(v);
}

export interface RenderedChart {
  id: string;
  hasSvg: boolean;
  points: number;
  heatmapImages: number;
  traces: number;
}

/** For each `.expert-figure` element (in `root`'s document), what Plotly drew. */
export async function renderedCharts(page: Page, selector = '.expert-figure'): Promise<RenderedChart[]> {
  return page.$$eval(selector, (els) =>
    els.map((el) => ({
      id: el.id,
      hasSvg: Boolean(el.querySelector('svg.main-svg')),
      points: el.querySelectorAll('path.point').length,
      heatmapImages: el.querySelectorAll('.hm image, g.heatmaplayer image').length,
      traces: el.querySelectorAll('g.trace').length,
    })),
  );
}

/** Waits until `count` charts have an SVG (or the timeout passes). */
export async function waitForCharts(page: Page, count: number, selector = '.expert-figure', timeout = 60_000): Promise<void> {
  await page.waitForFunction(
    ({ sel, n }) => document.querySelectorAll(`${sel} svg.main-svg`).length > 0 && [...document.querySelectorAll(sel)].filter((e) => e.querySelector('svg.main-svg')).length >= n,
    { sel: selector, n: count },
    { timeout, polling: 200 },
  );
}
