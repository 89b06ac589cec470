/**
 * Opens local HTML files in Debian's real headless Chromium (playwright-core,
 * no downloaded browser) with the network off: every request that is not
 * file:// is aborted and recorded, so a page that needs the network fails.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

export interface OpenedPage {
  page: Page;
  consoleErrors: string[];
  blockedRequests: string[];
}

export class HeadlessChromium {
  private constructor(
    private readonly context: BrowserContext,
    private readonly profile: string,
  ) {}

  static async launch(): Promise<HeadlessChromium> {
    const profile = mkdtempSync(join(tmpdir(), 'expert-chromium-'));
    try {
      const context = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
        viewport: { width: 1280, height: 900 },
        timeout: 60_000,
      });
      return new HeadlessChromium(context, profile);
    } catch (error) {
      rmSync(profile, { recursive: true, force: true });
      throw error;
    }
  }

  async open(file: string, options: { url?: string; allow?: string } = {}): Promise<OpenedPage> {
    const page = await this.context.newPage();
    const consoleErrors: string[] = [];
    const blockedRequests: string[] = [];
    page.on('console', (msg) => {
      if (msg.type() === 'error') consoleErrors.push(msg.text());
    });
    page.on('pageerror', (error) => consoleErrors.push(`pageerror: ${error.message}`));
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith('file://') || (options.allow && url.startsWith(options.allow))) return route.continue();
      blockedRequests.push(url);
      return route.abort('internetdisconnected');
    });
    await page.goto(options.url ?? pathToFileURL(file).href, { waitUntil: 'load', timeout: 60_000 });
    return { page, consoleErrors, blockedRequests };
  }

  async close(): Promise<void> {
    try {
      await this.context.close();
    } finally {
      rmSync(this.profile, { recursive: true, force: true });
    }
  }
}

export type { Browser };
