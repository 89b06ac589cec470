/**
 * The dashboard's HTTP server. It listens on loopback by default (a random
 * port unless HOST:PORT is given) and answers only requests that carry its
 * random token as the query parameter `token`, on every path (no token or a
 * wrong one: 401):
 *   /               the live page (dashboard-page.ts)
 *   /plotly.min.js  plotly.js, from the package's dependency (no CDN)
 *   /events         server-sent events: `snapshot` on connect, `update` every tick
 *   /metrics        OpenMetrics text (metrics.ts)
 * The feed is polled once per tick while a page is connected, and on each scrape.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { UserError } from '../errors.js';
import { DashboardFeed, type WithStore } from './dashboard-feed.js';
import { dashboardPage } from './dashboard-page.js';
import { OPENMETRICS_CONTENT_TYPE, openMetrics } from './metrics.js';

export interface Listen {
  host: string;
  port: number;
}

/** `HOST:PORT`, `:PORT`, `PORT` or `HOST` (IPv6 in brackets: `[::1]:8080`); loopback and a random port by default. */
export function parseListen(text: string | undefined | true): Listen {
  if (text === undefined || text === true || text === '') return { host: '127.0.0.1', port: 0 };
  const m = /^(?:\[([^\]]+)\]|([^:]*))(?::(\d+))?$/.exec(text) ?? /^()()(\d+)$/.exec(text);
  const onlyPort = /^\d+$/.test(text);
  if (!m) throw new UserError(`--dashboard/HOST:PORT: expected HOST:PORT (e.g. 127.0.0.1:8080 or :8080), got '${text}'`);
  const host = onlyPort ? '127.0.0.1' : m[1] ?? (m[2] || '127.0.0.1');
  const port = onlyPort ? Number(text) : m[3] === undefined ? 0 : Number(m[3]);
  if (!(port >= 0 && port <= 65535)) throw new UserError(`dashboard port ${port}: expected 0-65535`);
  return { host, port };
}

let plotlyText: string | undefined;
function plotly(): string {
  plotlyText ??= readFileSync(createRequire(import.meta.url).resolve('plotly.js-dist-min/plotly.min.js'), 'utf8');
  return plotlyText;
}

export interface DashboardOptions {
  title: string;
  tickMs?: number;
  token?: string;
}

export class Dashboard {
  readonly token: string;
  private readonly clients = new Set<ServerResponse>();
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private lastError: string | undefined;

  private constructor(
    private readonly server: Server,
    readonly feed: DashboardFeed,
    private readonly options: DashboardOptions,
    readonly url: string,
    token: string,
  ) {
    this.token = token;
  }

  static async start(withStore: WithStore, batchId: number, listen: Listen, options: DashboardOptions): Promise<Dashboard> {
    const token = options.token ?? randomBytes(18).toString('base64url');
    const feed = new DashboardFeed(withStore, batchId);
    let dashboard!: Dashboard;
    const server = createServer((req, res) => void dashboard.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) =>
        reject(new UserError(`dashboard: cannot listen on ${listen.host}:${listen.port}: ${error.code ?? error.message}`, { cause: error })),
      );
      server.listen(listen.port, listen.host, () => resolve());
    });
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : listen.port;
    const host = listen.host.includes(':') ? `[${listen.host}]` : listen.host;
    dashboard = new Dashboard(server, feed, options, `http://${host}:${port}/?token=${encodeURIComponent(token)}`, token);
    return dashboard;
  }

  private authorised(req: IncomingMessage): URL | undefined {
    const url = new URL(req.url ?? '/', 'http://dashboard');
    const given = Buffer.from(url.searchParams.get('token') ?? '');
    const wanted = Buffer.from(this.token);
    return given.length === wanted.length && timingSafeEqual(given, wanted) ? url : undefined;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = this.authorised(req);
    if (!url) {
      res.writeHead(401, { 'Content-Type': 'text/plain; charset=utf-8' }).end('401: this dashboard needs its token (?token=... as printed when it started)\n');
      return;
    }
    try {
      switch (url.pathname) {
        case '/':
          res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' }).end(dashboardPage(this.options.title, this.token));
          return;
        case '/plotly.min.js':
          res.writeHead(200, { 'Content-Type': 'text/javascript; charset=utf-8', 'Cache-Control': 'max-age=3600' }).end(plotly());
          return;
        case '/events':
          await this.subscribe(res);
          return;
        case '/metrics': {
          await this.poll();
          const status = this.feed.lastStatus;
          if (!status) throw new Error(this.lastError ?? 'no data yet');
          res.writeHead(200, { 'Content-Type': OPENMETRICS_CONTENT_TYPE }).end(openMetrics(status));
          return;
        }
        default:
          res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('404\n');
      }
    } catch (error) {
      if (!res.headersSent) res.writeHead(503, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(`503: ${(error as Error).message}\n`);
    }
  }

  private async subscribe(res: ServerResponse): Promise<void> {
    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', Connection: 'keep-alive' });
    res.write('retry: 1000\n\n');
    if (!this.feed.last) await this.poll();
    res.write(`event: snapshot\ndata: ${JSON.stringify(this.feed.snapshot())}\n\n`);
    this.clients.add(res);
    res.on('close', () => {
      this.clients.delete(res);
      if (this.clients.size === 0) this.stopTicking();
    });
    this.timer ??= setInterval(() => void this.broadcast(), this.options.tickMs ?? 1000);
  }

  /** One poll at a time; a scrape during a tick shares it. */
  private poll(): Promise<void> {
    this.ticking ??= this.feed
      .tick()
      .then(() => {
        this.lastError = undefined;
      })
      .catch((error: Error) => {
        this.lastError = error.message;
      })
      .finally(() => {
        this.ticking = undefined;
      });
    return this.ticking;
  }

  private async broadcast(): Promise<void> {
    if (this.ticking) return;
    await this.poll();
    const tick = this.feed.drain();
    if (!tick) return;
    const message = `event: update\ndata: ${JSON.stringify(tick)}\n\n`;
    for (const client of this.clients) client.write(message);
  }

  private stopTicking(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  async close(): Promise<void> {
    this.stopTicking();
    for (const client of this.clients) client.end();
    this.clients.clear();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    // Browsers and scrapers keep connections alive: close them, or close() would wait for them.
    this.server.closeAllConnections();
    await closed;
    await this.ticking;
  }
}
