import { describe, expect, it } from 'vitest';
import { ConfigError, configVariables, flagForVariable, loadConfig, projectComputeQuota } from './config.ts';

describe('loadConfig', () => {
  it('fills every default when the environment is empty', () => {
    const { config } = loadConfig({});
    expect(config.KUBEOP_HTTP_ADDR).toBe('127.0.0.1:8080');
    expect(config.KUBEOP_LOG_LEVEL).toBe('info');
    expect(config.KUBEOP_SHUTDOWN_TIMEOUT_SECONDS).toBe(25);
    expect(config.KUBEOP_DB_URL).toBeUndefined();
  });

  it('converts numbers given as text', () => {
    const { config } = loadConfig({ KUBEOP_SHUTDOWN_TIMEOUT_SECONDS: '7' });
    expect(config.KUBEOP_SHUTDOWN_TIMEOUT_SECONDS).toBe(7);
  });

  it('lets a flag win over the environment', () => {
    const { config } = loadConfig({ KUBEOP_HTTP_ADDR: '127.0.0.1:1' }, { KUBEOP_HTTP_ADDR: '[::1]:9090' });
    expect(config.KUBEOP_HTTP_ADDR).toBe('[::1]:9090');
  });

  it.each([
    ['KUBEOP_HTTP_ADDR', 'localhost', /KUBEOP_HTTP_ADDR="localhost" is invalid: expected host:port/],
    ['KUBEOP_HTTP_ADDR', '127.0.0.1:70000', /KUBEOP_HTTP_ADDR="127.0.0.1:70000" is invalid/],
    [
      'KUBEOP_LOG_LEVEL',
      'loud',
      /KUBEOP_LOG_LEVEL="loud" is invalid: expected one of fatal, error, warn, info/,
    ],
    ['KUBEOP_SHUTDOWN_TIMEOUT_SECONDS', '0', /expected an integer from 1 to 600/],
    ['KUBEOP_SHUTDOWN_TIMEOUT_SECONDS', 'soon', /expected an integer from 1 to 600/],
    ['KUBEOP_DB_URL', 'mysql://x', /expected a postgres:\/\/ or postgresql:\/\/ URL/],
    ['KUBEOP_PROJECT_QUOTA_CPU', '-4', /KUBEOP_PROJECT_QUOTA_CPU="-4" is invalid: must not be negative/],
    ['KUBEOP_PROJECT_QUOTA_MEMORY', 'lots', /expected a Kubernetes quantity such as 500m, 2 or 4Gi, or none/],
    ['KUBEOP_PROJECT_QUOTA_LIMITS_MEMORY', '1e30', /must be at most 9223372036854775807m/],
  ])('rejects %s=%s naming the variable and what is expected', (name, value, message) => {
    const run = () => loadConfig({ [name]: value });
    expect(run).toThrow(ConfigError);
    expect(run).toThrow(message);
    try {
      run();
    } catch (err) {
      expect((err as ConfigError).variable).toBe(name);
      expect((err as ConfigError).message).not.toContain('\n');
    }
  });

  it('never repeats the value of a secret variable in its error', () => {
    expect(() => loadConfig({ KUBEOP_DB_URL: 'mysql://admin:hunter2@db/x' })).toThrow(/\(value hidden\)/);
    expect(() => loadConfig({ KUBEOP_DB_URL: 'mysql://admin:hunter2@db/x' })).not.toThrow(/hunter2/);
  });

  it('gives project namespaces a compute quota by default; none leaves a resource without one', () => {
    expect(projectComputeQuota(loadConfig({}).config)).toEqual({
      cpu: '8',
      memory: '16Gi',
      limitsCpu: '16',
      limitsMemory: '32Gi',
    });
    const { config } = loadConfig({ KUBEOP_PROJECT_QUOTA_CPU: '2', KUBEOP_PROJECT_QUOTA_LIMITS_CPU: 'none' });
    expect(projectComputeQuota(config)).toEqual({ cpu: '2', memory: '16Gi', limitsMemory: '32Gi' });
  });

  it('a malformed KUBEOP_BOOTSTRAP_TOKEN is a ConfigError that hides the value', () => {
    for (const token of ['short', 'kop_tooShort', 'kop_' + 'a'.repeat(129), 'kop_' + '!'.repeat(40)]) {
      expect(() => loadConfig({ KUBEOP_BOOTSTRAP_TOKEN: token })).toThrow(ConfigError);
      expect(() => loadConfig({ KUBEOP_BOOTSTRAP_TOKEN: token })).toThrow(
        'KUBEOP_BOOTSTRAP_TOKEN=(value hidden) is invalid: expected "kop_" followed by 32 to 128',
      );
    }
    const good = 'kop_' + 'a'.repeat(48);
    expect(loadConfig({ KUBEOP_BOOTSTRAP_TOKEN: good }).config.KUBEOP_BOOTSTRAP_TOKEN).toBe(good);
  });

  it('reports unknown KUBEOP_ variables so typos are visible', () => {
    const { unknown } = loadConfig({ KUBEOP_HTTP_ADRR: 'x', PATH: '/bin' });
    expect(unknown).toEqual(['KUBEOP_HTTP_ADRR']);
  });
});

describe('configuration variables', () => {
  it('map to kebab-case flags', () => {
    expect(flagForVariable('KUBEOP_HTTP_ADDR')).toBe('--http-addr');
    expect(flagForVariable('KUBEOP_SHUTDOWN_TIMEOUT_SECONDS')).toBe('--shutdown-timeout-seconds');
  });

  it('each carry a description for the docs', () => {
    for (const v of configVariables()) {
      expect(v.name).toMatch(/^KUBEOP_[A-Z0-9_]+$/);
      expect(String(v.schema.description).length, v.name).toBeGreaterThan(20);
    }
  });
});
