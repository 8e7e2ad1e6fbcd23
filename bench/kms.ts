// bench/kms: envelope encryption of stored secrets against raw AES-256-GCM, same payloads, same run.
//
// Baseline: one AES-256-GCM encryption (random nonce, the same associated data) or decryption of the
// payload under a fixed key — the least any encryption at rest costs. Measured: kubeOP's envelope
// (fresh data key, AES-256-GCM of the payload, the data key wrapped by the local provider, base64
// text format; decryption parses, unwraps and decrypts). Payloads: a 64-byte API token and a 4 KiB
// kubeconfig. Each figure is the median of several interleaved rounds, so drift hits both sides.
// Usage: npm run bench -- kms [--seconds S] [--rounds N]
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { associatedData, decrypt, encrypt, type RecordIdentity } from '../src/kms/envelope.ts';
import { LocalKeyring } from '../src/kms/local.ts';
import { machine, recordResult, type Figure } from './support.ts';

const { values } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== 'kms'),
  options: {
    seconds: { type: 'string', default: '1' },
    rounds: { type: 'string', default: '5' },
  },
});
const SECONDS = Number(values.seconds);
const ROUNDS = Number(values.rounds);

const identity: RecordIdentity = {
  table: 'clusters',
  column: 'kubeconfig',
  id: '7d3c0f5e-1f7a-4c53-9c1b-2b0f4a1c9e11',
};
const aad = associatedData(identity);
const kms = new LocalKeyring(
  [
    { id: 'k2', key: randomBytes(32) },
    { id: 'k1', key: randomBytes(32) },
  ],
  'k2',
);
const rawKey = randomBytes(32);

function rawEncrypt(plaintext: Buffer): { nonce: Buffer; ciphertext: Buffer; tag: Buffer } {
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', rawKey, nonce);
  cipher.setAAD(aad);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { nonce, ciphertext, tag: cipher.getAuthTag() };
}

function rawDecrypt(sealed: { nonce: Buffer; ciphertext: Buffer; tag: Buffer }): Buffer {
  const decipher = createDecipheriv('aes-256-gcm', rawKey, sealed.nonce);
  decipher.setAAD(aad);
  decipher.setAuthTag(sealed.tag);
  return Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]);
}

/** Operations per second of `op` run back to back for SECONDS (after a short warm-up). */
async function opsPerSecond(op: () => unknown): Promise<number> {
  const warmUntil = performance.now() + 100;
  while (performance.now() < warmUntil) await op();
  let n = 0;
  const start = performance.now();
  const end = start + SECONDS * 1000;
  let now = start;
  while (now < end) {
    for (let i = 0; i < 64; i++) await op();
    n += 64;
    now = performance.now();
  }
  return n / ((now - start) / 1000);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

const kubeconfig = Buffer.from(
  `apiVersion: v1\nkind: Config\nclusters:\n- name: prod\n  cluster:\n    server: https://10.0.0.1:6443\n    certificate-authority-data: ${randomBytes(3100).toString('base64')}\n`,
)
  .subarray(0, 4096)
  .toString();
const payloads = [
  { name: '64 B token', text: randomBytes(48).toString('base64') },
  { name: '4 KiB kubeconfig', text: kubeconfig },
];

async function main(): Promise<void> {
  console.log(
    `kms: envelope encryption vs raw AES-256-GCM, ${ROUNDS} rounds × ${SECONDS} s per figure (median)`,
  );
  console.log(
    '  payload           operation   raw AES-256-GCM ops/s   envelope ops/s   ratio envelope / raw',
  );
  const figures: Figure[] = [];
  for (const p of payloads) {
    const bytes = Buffer.from(p.text);
    if (p.name.startsWith('4 KiB') && bytes.length !== 4096) throw new Error('payload size');
    const sealedRaw = rawEncrypt(bytes);
    const sealed = await encrypt(kms, p.text, identity);
    // Both sides really round-trip before being timed.
    if (!rawDecrypt(sealedRaw).equals(bytes)) throw new Error('raw round trip');
    if ((await decrypt(kms, sealed, identity)).toString() !== p.text) throw new Error('envelope round trip');

    const runs = {
      rawEnc: [] as number[],
      envEnc: [] as number[],
      rawDec: [] as number[],
      envDec: [] as number[],
    };
    for (let r = 0; r < ROUNDS; r++) {
      runs.rawEnc.push(await opsPerSecond(() => rawEncrypt(bytes)));
      runs.envEnc.push(await opsPerSecond(() => encrypt(kms, p.text, identity)));
      runs.rawDec.push(await opsPerSecond(() => rawDecrypt(sealedRaw)));
      runs.envDec.push(await opsPerSecond(() => decrypt(kms, sealed, identity)));
    }
    for (const [op, raw, env] of [
      ['encrypt', median(runs.rawEnc), median(runs.envEnc)],
      ['decrypt', median(runs.rawDec), median(runs.envDec)],
    ] as const) {
      figures.push({ name: `${op} ${p.name}`, unit: 'ops/s', value: env, baseline: raw, better: 'higher' });
      console.log(
        `  ${p.name.padEnd(17)} ${op.padEnd(11)} ${fmt(raw).padStart(21)}   ${fmt(env).padStart(14)}   ${(env / raw).toFixed(2).padStart(20)}`,
      );
    }
  }
  const sealedSize = (await encrypt(kms, payloads[1]!.text, identity)).length;
  console.log(`  stored size of the 4 KiB payload: ${sealedSize} characters (base64 envelope)`);
  console.log(`  machine: ${machine()}`);
  recordResult('kms', { seconds: SECONDS, rounds: ROUNDS }, figures);
}

await main();
