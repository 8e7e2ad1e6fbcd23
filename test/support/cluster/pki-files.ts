import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  createCertificateAuthority,
  createSigningKeyPair,
  issueCertificate,
  type KeyPairPem,
} from '../../../src/platform/pki.ts';

export interface ClusterPki {
  dir: string;
  caFile: string;
  caKeyFile: string;
  serving: { certFile: string; keyFile: string };
  /** kwok's kubelet endpoint on 127.0.0.1 (logs, exec), verified by the API server against the CA. */
  kubeletServing: { certFile: string; keyFile: string };
  serviceAccount: { privateKeyFile: string; publicKeyFile: string };
  clients: Record<
    'admin' | 'controllerManager' | 'scheduler' | 'kwok' | 'apiserverKubeletClient',
    { certFile: string; keyFile: string }
  >;
}

function writePair(dir: string, name: string, pair: KeyPairPem): { certFile: string; keyFile: string } {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  writeFileSync(certFile, pair.certPem);
  writeFileSync(keyFile, pair.keyPem, { mode: 0o600 });
  return { certFile, keyFile };
}

/**
 * Every certificate and key a loopback control plane needs: a CA, the API server's serving
 * certificate, kwok's kubelet serving certificate, client certificates for the admin and each component (their identities are the ones
 * the built-in RBAC bootstrap policy grants), and the service-account signing key pair.
 */
export async function writeClusterPki(dir: string): Promise<ClusterPki> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const ca = await createCertificateAuthority('kubeop-test-cluster-ca');
  const { certFile: caFile, keyFile: caKeyFile } = writePair(dir, 'ca', ca);
  const serving = writePair(
    dir,
    'apiserver',
    await issueCertificate(ca, {
      commonName: 'kube-apiserver',
      dnsNames: [
        'localhost',
        'kubernetes',
        'kubernetes.default',
        'kubernetes.default.svc',
        'kubernetes.default.svc.cluster.local',
      ],
      ipAddresses: ['127.0.0.1', '::1', '10.0.0.1'],
      usage: 'server',
    }),
  );
  const kubeletServing = writePair(
    dir,
    'kubelet',
    await issueCertificate(ca, {
      commonName: 'kwok-kubelet',
      dnsNames: ['localhost'],
      ipAddresses: ['127.0.0.1'],
      usage: 'server',
    }),
  );
  const client = async (name: string, commonName: string, organizations: string[] = []) =>
    writePair(dir, name, await issueCertificate(ca, { commonName, organizations, usage: 'client' }));
  const sa = await createSigningKeyPair();
  const privateKeyFile = join(dir, 'sa.key');
  const publicKeyFile = join(dir, 'sa.pub');
  writeFileSync(privateKeyFile, sa.privateKeyPem, { mode: 0o600 });
  writeFileSync(publicKeyFile, sa.publicKeyPem);
  return {
    dir,
    caFile,
    caKeyFile,
    serving,
    kubeletServing,
    serviceAccount: { privateKeyFile, publicKeyFile },
    clients: {
      admin: await client('admin', 'kubeop-admin', ['system:masters']),
      controllerManager: await client('controller-manager', 'system:kube-controller-manager'),
      scheduler: await client('scheduler', 'system:kube-scheduler'),
      kwok: await client('kwok', 'kwok-controller', ['system:masters']),
      // The identity the API server presents to kubelets (here kwok) for logs and exec.
      apiserverKubeletClient: await client('apiserver-kubelet-client', 'kube-apiserver-kubelet-client', [
        'system:masters',
      ]),
    },
  };
}
