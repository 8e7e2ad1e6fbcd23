import { describe, expect, it } from 'vitest';
import { TerminalError } from './errors.ts';

describe('TerminalError', () => {
  it('carries its reason, message and cause', () => {
    const cause = new Error('image reference has no tag');
    const err = new TerminalError('InvalidImage', 'spec.image is not a valid reference', { cause });
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('TerminalError');
    expect(err.reason).toBe('InvalidImage');
    expect(err.message).toBe('spec.image is not a valid reference');
    expect(err.cause).toBe(cause);
  });
});
