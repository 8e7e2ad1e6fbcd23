import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

/**
 * JSON logs on standard output, one object per line. Credentials are redacted by path so a header or
 * config value that slips into a log object never prints.
 */
export function createLogger(opts: {
  service: string;
  level: string;
  destination?: DestinationStream;
}): Logger {
  return pino(
    {
      level: opts.level,
      base: { service: opts.service },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: {
        paths: [
          'req.headers.authorization',
          'req.headers.cookie',
          'headers.authorization',
          'config.KUBEOP_DB_URL',
          'config.KUBEOP_KMS_MASTER_KEY',
          'config.KUBEOP_KMS_KEYS',
          'config.KUBEOP_BOOTSTRAP_TOKEN',
          'config.KUBEOP_GIT_WEBHOOK_SECRET',
          '*.password',
          '*.token',
        ],
        censor: '[redacted]',
      },
    },
    opts.destination,
  );
}
