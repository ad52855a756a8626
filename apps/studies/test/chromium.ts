// Headless Chromium driven over the DevTools protocol (undici's WebSocket): open a page, collect console
// errors and uncaught exceptions, evaluate an expression, save a full-page screenshot.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'undici';

/** The chromium binary, installed with apt-get when missing; a reason string when that is impossible. */
export function ensureChromium(): { path: string } | { skip: string } {
  const found = () => spawnSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).stdout.trim();
  let path = found();
  if (path) return { path };
  const r = spawnSync('sh', ['-c', 'command -v chromium || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium)'], { encoding: 'utf8', timeout: 600_000 });
  path = found();
  if (path) return { path };
  return { skip: `chromium is not installed and apt-get could not install it (exit ${r.status}): ${(r.stderr || r.stdout).trim().split('\n').pop()}` };
}

export interface PageReport {
  errors: string[];
  value: unknown;
}

export async function inspectPage(chromium: string, url: string, expression: string, screenshot: string): Promise<PageReport> {
  const profile = mkdtempSync(join(tmpdir(), 'biore-chromium-'));
  const proc: ChildProcess = spawn(chromium, [
    '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--no-default-browser-check',
    `--user-data-dir=${profile}`, '--remote-debugging-port=0', '--window-size=1400,1000', 'about:blank',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  try {
    const browserWs = await new Promise<string>((res, rej) => {
      let err = '';
      const t = setTimeout(() => rej(new Error(`chromium did not start:\n${err}`)), 60_000);
      proc.stderr!.on('data', (d) => {
        err += d;
        const m = /DevTools listening on (ws:\/\/\S+)/.exec(err);
        if (m) { clearTimeout(t); res(m[1]); }
      });
      proc.on('exit', (code) => rej(new Error(`chromium exited with ${code}:\n${err}`)));
    });
    const port = new URL(browserWs).port;
    const targets = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json() as { type: string; webSocketDebuggerUrl: string }[];
    const page = targets.find((t) => t.type === 'page');
    if (!page) throw new Error('no page target');
    const ws = new WebSocket(page.webSocketDebuggerUrl);
    await new Promise((res, rej) => { ws.onopen = res; ws.onerror = rej; });
    let id = 0;
    const pending = new Map<number, { res: (v: any) => void; rej: (e: Error) => void }>();
    const listeners: ((m: any) => void)[] = [];
    const errors: string[] = [];
    ws.onmessage = (ev) => {
      const m = JSON.parse(String(ev.data));
      if (m.id !== undefined) {
        const p = pending.get(m.id);
        pending.delete(m.id);
        if (m.error) p?.rej(new Error(JSON.stringify(m.error))); else p?.res(m.result);
        return;
      }
      if (m.method === 'Runtime.consoleAPICalled' && (m.params.type === 'error' || m.params.type === 'assert')) errors.push(`console.${m.params.type}: ${m.params.args.map((a: any) => a.value ?? a.description).join(' ')}`);
      if (m.method === 'Runtime.exceptionThrown') errors.push(`exception: ${m.params.exceptionDetails.exception?.description ?? m.params.exceptionDetails.text}`);
      if (m.method === 'Log.entryAdded' && m.params.entry.level === 'error') errors.push(`log: ${m.params.entry.text} ${m.params.entry.url ?? ''}`);
      for (const l of listeners) l(m);
    };
    const send = (method: string, params: Record<string, unknown> = {}) => new Promise<any>((res, rej) => {
      pending.set(++id, { res, rej });
      ws.send(JSON.stringify({ id, method, params }));
    });
    await send('Runtime.enable');
    await send('Log.enable');
    await send('Page.enable');
    const loaded = new Promise<void>((res) => listeners.push((m) => { if (m.method === 'Page.loadEventFired') res(); }));
    await send('Page.navigate', { url });
    await loaded;
    const r = await send('Runtime.evaluate', { expression, returnByValue: true });
    if (r.exceptionDetails) throw new Error(`evaluate: ${JSON.stringify(r.exceptionDetails)}`);
    const metrics = await send('Page.getLayoutMetrics');
    const height = Math.min(16_000, Math.ceil(metrics.cssContentSize?.height ?? metrics.contentSize.height));
    await send('Emulation.setDeviceMetricsOverride', { width: 1400, height, deviceScaleFactor: 1, mobile: false });
    const shot = await send('Page.captureScreenshot', { format: 'png', captureBeyondViewport: true });
    writeFileSync(screenshot, Buffer.from(shot.data, 'base64'));
    ws.close();
    return { errors, value: r.result.value };
  } finally {
    // the profile folder is removed only after chromium has exited (it writes to it until then)
    const exited = proc.exitCode !== null || proc.signalCode !== null ? Promise.resolve() : new Promise((res) => proc.once('exit', res));
    proc.kill('SIGKILL');
    await exited;
    rmSync(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
  }
}
