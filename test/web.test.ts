import { request } from 'node:http';
import { mkdirSync, writeFileSync } from 'node:fs';

import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import WebSocket from 'ws';

import type { CroniumService } from '../src/service/service.ts';
import { WebServer } from '../src/web/webServer.ts';
import { describeEngines } from './support/engines.ts';
import { tempDir } from './support/fixtures.ts';

function get(
  port: number,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, headers: { host: `127.0.0.1:${port}`, ...headers } },
      (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describeEngines('browser mode server', ({ openService }) => {
  const dir = tempDir();
  let service: CroniumService;
  let web: WebServer;
  let port: number;

  beforeAll(async () => {
    service = await openService({ dataDir: dir.path, runtimePort: 0 });
    const staticDir = `${dir.path}/static`;
    mkdirSync(`${staticDir}/assets`, { recursive: true });
    writeFileSync(`${staticDir}/index.html`, '<!doctype html><title>Cronium</title>');
    writeFileSync(`${staticDir}/assets/app.js`, 'console.log(1)');
    web = new WebServer({ api: service, subscribe: (l) => service.subscribe(l), staticDir });
    ({ port } = await web.listen());
  });
  afterAll(async () => {
    await web.close();
    await service.close();
    dir.remove();
  });

  it('listens on loopback and serves nothing but a refusal without the token', async () => {
    const r = await get(port, '/');
    expect(r.status).toBe(401);
    expect(r.body).toMatch(/needs the link with its token/);
    expect((await get(port, '/assets/app.js')).status).toBe(401);
    expect((await get(port, `/?token=wrong-${web.token}`)).status).toBe(401);
  });

  it('trades the token in the link for an HttpOnly cookie, then serves the app with a strict CSP', async () => {
    const first = await get(port, `/?token=${web.token}`);
    expect(first.status).toBe(303);
    expect(first.headers.location).toBe('/');
    const cookie = String(first.headers['set-cookie']).split(';')[0]!;
    expect(String(first.headers['set-cookie'])).toMatch(/HttpOnly; SameSite=Strict/);
    const page = await get(port, '/', { cookie });
    expect(page.status).toBe(200);
    expect(page.body).toContain('<title>Cronium</title>');
    expect(page.headers['content-security-policy']).toMatch(/default-src 'self'; script-src 'self'/);
    expect((await get(port, '/assets/app.js', { cookie })).headers['content-type']).toMatch(/javascript/);
    // Paths that climb out of the renderer folder: never a file outside it.
    const climbed = await get(port, '/../../etc/passwd', { cookie });
    expect(climbed.body).not.toContain('root:');
    expect((await get(port, '/assets/..%2f..%2f..%2f..%2fetc%2fpasswd', { cookie })).status).toBe(404);
  });

  it('refuses another Host (DNS rebinding) even with the token', async () => {
    const r = await get(port, `/?token=${web.token}`, { host: `evil.example:${port}` });
    expect(r.status).toBe(403);
  });

  it('answers calls over the WebSocket with the cookie and pushes events; refuses foreign origins and no token', async () => {
    const cookie = `cronium_session=${web.token}`;
    const open = (headers: Record<string, string>) =>
      new Promise<WebSocket>((resolve, reject) => {
        const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { headers });
        ws.once('open', () => resolve(ws));
        ws.once('error', reject);
        ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      });
    await expect(open({ origin: `http://127.0.0.1:${port}` })).rejects.toThrow(/403/);
    await expect(open({ origin: 'https://evil.example', cookie })).rejects.toThrow(/403/);
    const ws = await open({ origin: `http://127.0.0.1:${port}`, cookie });
    const messages: {
      type: string;
      id?: number;
      result?: { ok: boolean; value?: { id: string } };
      event?: { type: string; execution?: { status: string; runId: string } };
    }[] = [];
    ws.on('message', (d) => messages.push(JSON.parse(String(d))));
    // A server where nothing listens (port 1 on loopback): the run ends at once, and its events are pushed.
    const nowhere = await service.createServer({
      name: 'nowhere',
      host: '127.0.0.1',
      port: 1,
      username: 'x',
      auth: { type: 'agent' },
    });
    const job = await service.createJob({ name: 'pushed', language: 'bash', script: 'true' });
    ws.send(JSON.stringify({ id: 1, method: 'setVariable', args: [{ key: 'from-web', value: [1] }] }));
    ws.send(JSON.stringify({ id: 2, method: 'getServer', args: ['ghost'] }));
    ws.send(JSON.stringify({ id: 3, method: 'close', args: [] }));
    ws.send(
      JSON.stringify({ id: 4, method: 'startRun', args: [{ jobId: job.id, serverIds: [nowhere.id] }] }),
    );
    const byId = (id: number) => messages.find((m) => m.id === id)?.result;
    await vi.waitFor(() => expect([1, 2, 3, 4].map(byId).every(Boolean)).toBe(true));
    expect(byId(1)).toMatchObject({ ok: true, value: { key: 'from-web', value: [1] } });
    expect(byId(2)).toEqual({ ok: false, error: { kind: 'not_found', message: 'No server named "ghost".' } });
    expect(byId(3)).toMatchObject({ ok: false, error: { kind: 'invalid_input' } });
    expect(await service.getVariableValue('from-web')).toEqual([1]);
    const runId = byId(4)!.value!.id;
    await vi.waitFor(() =>
      expect(
        messages.some(
          (m) =>
            m.type === 'event' &&
            m.event?.type === 'execution' &&
            m.event.execution?.runId === runId &&
            m.event.execution.status === 'error',
        ),
      ).toBe(true),
    );
    ws.close();
  });
});
