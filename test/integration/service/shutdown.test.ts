import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { startService } from '../../../src/main/service.ts';
import { loadConfig } from '../../../src/platform/config.ts';

const quiet = new Writable({ write: (_c, _e, done) => done() });

async function startWithSlowRoute(handlerMs: number, shutdownSeconds: number) {
  const { config } = loadConfig({
    KUBEOP_HTTP_ADDR: '127.0.0.1:0',
    KUBEOP_SHUTDOWN_TIMEOUT_SECONDS: String(shutdownSeconds),
  });
  return startService(
    'test',
    config,
    [
      async (ctx) => {
        ctx.app.get('/slow', async () => {
          await sleep(handlerMs);
          return { done: true };
        });
      },
    ],
    { logDestination: quiet },
  );
}

function connectionRefused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.on('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.on('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });
}

describe('graceful shutdown', () => {
  it('lets a slow in-flight request complete, refuses new connections, and exits 0', async () => {
    const svc = await startWithSlowRoute(800, 10);
    const port = Number(svc.address.split(':').at(-1));
    const inFlight = fetch(`${svc.url}/slow`);
    await sleep(150);
    const exit = svc.lifecycle.shutdown('test');
    await sleep(100);
    expect(await connectionRefused(port)).toBe(true);
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ done: true });
    expect(await exit).toBe(0);
  });

  it('cuts off a request that outlives the bound and reports exit code 1', async () => {
    const svc = await startWithSlowRoute(5_000, 1);
    const inFlight = fetch(`${svc.url}/slow`).then(
      () => 'answered',
      () => 'cut off',
    );
    await sleep(150);
    const started = Date.now();
    expect(await svc.lifecycle.shutdown('test')).toBe(1);
    expect(Date.now() - started).toBeLessThan(4_000);
    expect(await inFlight).toBe('cut off');
  });

  it('runs the shutdown once however often it is asked', async () => {
    const svc = await startWithSlowRoute(10, 5);
    let closed = 0;
    svc.lifecycle.onShutdown('counter', async () => {
      closed++;
    });
    const [a, b] = await Promise.all([svc.lifecycle.shutdown('one'), svc.lifecycle.shutdown('two')]);
    expect([a, b]).toEqual([0, 0]);
    expect(closed).toBe(1);
  });
});
