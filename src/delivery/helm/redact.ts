/**
 * Removes secret values from text shown to tenants (conditions, events, logs). A chart's `fail` or a
 * schema error may echo a value that came from a Secret, and a repository URL may carry credentials.
 */
export function redact(text: string, secrets: readonly string[] = []): string {
  let out = text.replace(/(\b[a-z][a-z0-9+.-]*:\/\/)[^/\s:@]+(?::[^/\s@]*)?@/gi, '$1***@');
  // Longest first so that a secret containing another is removed whole.
  const values = [...new Set(secrets)].filter((s) => s.length >= 4).sort((a, b) => b.length - a.length);
  for (const value of values) out = out.split(value).join('***');
  return out;
}
