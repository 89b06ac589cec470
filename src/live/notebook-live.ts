/**
 * `%%batch --live`: the live chart under the cell, redrawn in place (a
 * display updated with update_display_data) every 2 s while the batch runs,
 * from the kernel's own store (it is the writer); the last draw, once the
 * batch ended, is what the saved notebook keeps. plotly.js goes out with the
 * first and the last draw only when this display is the session's first
 * figure (the browser keeps it in between).
 */
import type { ExpertStore } from '../store/types.js';
import { plotlyShippedInSession, toMimeBundle } from '../viz/mime.js';
import { DashboardFeed } from './dashboard-feed.js';
import { liveFigure } from './live-figure.js';

export class LiveChart {
  private feed: DashboardFeed | undefined;
  private timer: NodeJS.Timeout | undefined;
  private drawing: Promise<void> = Promise.resolve();
  private readonly carriesPlotly = !plotlyShippedInSession();
  private draws = 0;

  constructor(
    private readonly store: ExpertStore,
    private readonly show: (bundle: Record<string, unknown>) => void,
    private readonly title: string,
    private readonly everyMs = 2000,
  ) {}

  follow(batchId: number): void {
    this.feed = new DashboardFeed((work) => work(this.store), batchId);
    this.draw();
    this.timer = setInterval(() => this.draw(), this.everyMs);
  }

  private draw(final = false): void {
    this.drawing = this.drawing.then(async () => {
      const feed = this.feed!;
      try {
        await feed.tick();
      } catch {
        return; // a poll that failed (the store is busy closing): the next one draws
      }
      const snapshot = feed.snapshot();
      const figure = liveFigure(this.title, snapshot.status, snapshot.runs, snapshot.series);
      const first = this.draws++ === 0;
      this.show(toMimeBundle(figure, { plotly: this.carriesPlotly && (first || final) ? 'always' : 'never' }) as unknown as Record<string, unknown>);
    });
  }

  /** The final draw (the batch has ended); the chart stays in the notebook. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (!this.feed) return;
    this.draw(true);
    await this.drawing;
  }
}
