/**
 * The built renderer names an icon that is there: browser mode asked for /favicon.ico and logged a 404 on
 * every page load. Served by the real WebServer from the real build (npm test builds before vitest).
 */
import { readFileSync } from 'node:fs';
import { request } from 'node:http';

import { afterAll, beforeAll, expect, it } from 'vitest';

import { rendererDir } from '../src/cli/commands/serve.ts';
import { CroniumService } from '../src/service/service.ts';
import { WebServer } from '../src/web/webServer.ts';
import { tempDir } from './support/fixtures.ts';

function get(
  port: number,
  path: string,
  cookie = '',
): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, headers: { host: `127.0.0.1:${port}`, cookie } },
      (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () =>
          resolve({ status: res.statusCode!, type: String(res.headers['content-type']), body }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const dir = tempDir();
let service: CroniumService;
let web: WebServer;
let port: number;
beforeAll(async () => {
  service = await CroniumService.open({ dataDir: dir.path, runtimePort: 0 });
  web = new WebServer({
    api: service,
    subscribe: (l) => service.subscribe(l),
    staticDir: rendererDir(process.env),
  });
  ({ port } = await web.listen());
});
afterAll(async () => {
  await web.close();
  await service.close();
  dir.remove();
});

it('the page links an icon, and browser mode serves it as SVG', async () => {
  const html = readFileSync(`${rendererDir(process.env)}/index.html`, 'utf8');
  const href = /<link rel="icon"[^>]*href="\.?([^"]+)"/.exec(html)?.[1];
  expect(href).toMatch(/^\/favicon\.svg$/);
  const cookie = `cronium_session=${web.token}`;
  const icon = await get(port, href!, cookie);
  expect(icon.status).toBe(200);
  expect(icon.type).toBe('image/svg+xml');
  expect(icon.body).toMatch(/^<svg /);
  // Still behind the token like every other file.
  expect((await get(port, href!)).status).toBe(401);
});
