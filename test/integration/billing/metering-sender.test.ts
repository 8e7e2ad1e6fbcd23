import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { sendBatch } from '../../../src/operator/metering/sender.ts';
import { sample, type SampleInput } from '../../../src/operator/metering/sample.ts';
import { drivers, type TestDatabase } from '../../support/databases.ts';
import { bearer, managerApi } from '../../support/manager.ts';

const input: SampleInput = {
  cluster: 'c1',
  windowStart: Date.parse('2026-11-20T10:00:00Z'),
  windowSeconds: 60,
  namespaces: [
    { metadata: { name: 'ns1', labels: { 'paas.kubeop.io/tenant': 't', 'paas.kubeop.io/project': 'p' } } },
  ],
  pods: [
    {
      metadata: { name: 'a', namespace: 'ns1', labels: { 'paas.kubeop.io/app': 'web' } },
      spec: { containers: [{ name: 'c', resources: { requests: { cpu: '250m', memory: '64Mi' } } }] },
      status: { phase: 'Running' },
    },
  ],
  pvcs: [],
  services: [],
};

describe.each(drivers)('operator metering to the manager on $name', ({ open }) => {
  let t: TestDatabase;
  let app: FastifyInstance;
  let url: string;
  let token: string;

  beforeAll(async () => {
    t = await open();
    const m = await managerApi(t.db);
    app = m.app;
    url = await app.listen({ host: '127.0.0.1', port: 0 });
    const res = await app.inject({
      method: 'POST',
      url: '/v1/tokens',
      headers: bearer(m.adminToken),
      payload: { name: 'operator', role: 'metering' },
    });
    token = res.json().token;
  });
  afterAll(async () => {
    await app.close();
    await t.drop();
  });

  it('delivers a tick once however often it is sent, and the manager counts what was sampled', async () => {
    const events = sample(input);
    expect(await sendBatch(url, token, events)).toEqual({ outcome: 'sent', accepted: 3, duplicates: 0 });
    // The same window sampled again (a second tick, a retry, a second replica): nothing new.
    expect(await sendBatch(url, token, sample(input))).toEqual({
      outcome: 'sent',
      accepted: 0,
      duplicates: 3,
    });
    const { rows } = await t.db.query<{ meter: string; q: string }>(
      "SELECT meter, quantity::text AS q FROM usage_hourly WHERE tenant = 't' AND app = 'web' ORDER BY meter",
    );
    expect(rows).toEqual([
      { meter: 'cpu', q: '15.000000' },
      { meter: 'memory', q: String(64 * 2 ** 20 * 60) + '.000000' },
      { meter: 'pods', q: '60.000000' },
    ]);
  });

  it('says retry when the manager is unreachable or the token is refused, rejected when the batch is invalid', async () => {
    const events = sample(input);
    expect(await sendBatch('http://127.0.0.1:9', token, events, 2000)).toMatchObject({ outcome: 'retry' });
    const badToken = 'kop_' + 'z'.repeat(43);
    const refused = await sendBatch(url, badToken, events);
    expect(refused).toEqual({ outcome: 'retry', reason: 'manager answered 401 KUBEOP_ERR_UNAUTHENTICATED' });
    expect(JSON.stringify(refused)).not.toContain(badToken);
    const invalid = await sendBatch(url, token, [{ ...events[0]!, quantity: 'lots' }]);
    expect(invalid).toEqual({ outcome: 'rejected', reason: 'manager answered 400 KUBEOP_ERR_VALIDATION' });
  });
});
