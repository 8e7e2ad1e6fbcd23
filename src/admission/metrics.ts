import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface AdmissionMetrics {
  requests: Counter<'webhook' | 'operation' | 'decision'>;
  duration: Histogram<'webhook'>;
  denials: Counter<'rule'>;
  certificateExpiry: Gauge;
  rotations: Counter<'action'>;
}

export function createAdmissionMetrics(registry: Registry): AdmissionMetrics {
  return {
    requests: new Counter({
      name: 'kubeop_admission_requests_total',
      help: 'Admission reviews answered, by webhook, operation and decision (allowed, patched, denied, error, invalid).',
      labelNames: ['webhook', 'operation', 'decision'] as const,
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'kubeop_admission_request_duration_seconds',
      help: 'Time from the first byte of an admission review to the answer, by webhook.',
      labelNames: ['webhook'] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    }),
    denials: new Counter({
      name: 'kubeop_admission_denials_total',
      help: 'Violations reported in denials, by rule id.',
      labelNames: ['rule'] as const,
      registers: [registry],
    }),
    certificateExpiry: new Gauge({
      name: 'kubeop_admission_certificate_expiry_timestamp_seconds',
      help: 'When the serving certificate in use expires (Unix time).',
      registers: [registry],
    }),
    rotations: new Counter({
      name: 'kubeop_admission_certificate_rotations_total',
      help: 'Certificate rotation steps this replica wrote, by action (renew-leaf, stage-ca, promote-ca, drop-previous-ca, reissue).',
      labelNames: ['action'] as const,
      registers: [registry],
    }),
  };
}
