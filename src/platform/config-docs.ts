import { configVariables, flagForVariable } from './config.ts';

/** docs/reference/configuration.md, rendered from the configuration schema (the only source). */
export function renderConfigDocs(): string {
  const out: string[] = [
    '<!-- Generated from src/platform/config.ts by `npm run gen`; do not edit. A test fails when it is stale. -->',
    '',
    '# Configuration',
    '',
    'Every component reads the same `KUBEOP_*` environment variables; each also has a command-line flag,',
    'which wins over the environment. Values are validated at startup: a bad or missing value stops the',
    'process with exit code 2 and one line naming the variable and what it expects.',
    '',
    '| Variable | Flag | Default | Description |',
    '| --- | --- | --- | --- |',
  ];
  for (const { name, schema, required } of configVariables()) {
    const meta = schema as Record<string, unknown>;
    let def =
      meta.default === undefined ? (required ? '(required)' : '(unset)') : `\`${String(meta.default)}\``;
    if (Array.isArray(meta.anyOf)) {
      def += ` (one of ${(meta.anyOf as Array<{ const: unknown }>).map((s) => `\`${String(s.const)}\``).join(', ')})`;
    }
    if (meta.type === 'integer') def += ` (${String(meta.minimum)}–${String(meta.maximum)})`;
    const secret = meta.secret ? ' Treated as a secret: never logged or echoed in errors.' : '';
    const description = `${String(meta.description ?? '').replaceAll('|', '\\|')}${secret}`;
    out.push(`| \`${name}\` | \`${flagForVariable(name)}\` | ${def} | ${description} |`);
  }
  out.push('');
  return out.join('\n');
}
