/**
 * A published notebook must open offline years later: nbconvert's page links
 * require.js and MathJax from outside the file (a CDN, or Debian's
 * file:///usr/share/javascript copies that another machine lacks). The
 * figures carry plotly.js inline and need neither, so those links go.
 */
export function offlineHtml(html: string): string {
  return html.replace(/<script\b[^>]*\bsrc\s*=\s*["'](?:https?:|file:|\/\/)[^"']*["'][^>]*>\s*<\/script>/gi, '');
}

/** Every URL the page would fetch from outside itself (tests assert there is none). */
export function externalReferences(html: string): string[] {
  const found: string[] = [];
  for (const match of html.matchAll(/<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)\s*=\s*["']((?:https?:|file:|\/\/)[^"']*)["']/gi)) {
    found.push(match[1]!);
  }
  return found;
}
