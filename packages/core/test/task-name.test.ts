import { diag } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveTaskName } from '@tasklens/core/adapter';
import { captureDiagWarnings } from '@tasklens/test-utils';

afterEach(() => diag.disable());

describe('resolveTaskName (the taskName option of every adapter)', () => {
  it('takes a fixed name or a function of what the adapter received', () => {
    expect(resolveTaskName(undefined, 'queue', 1, 2)).toBe('queue');
    expect(resolveTaskName('fixed', 'queue', 1, 2)).toBe('fixed');
    expect(resolveTaskName((a: number, b: number) => `sum-${a + b}`, 'queue', 1, 2)).toBe('sum-3');
  });

  it('falls back, with a warning, on a function that throws or gives no name', () => {
    const warnings = captureDiagWarnings();
    expect(resolveTaskName('', 'queue', 1, 2)).toBe('queue');
    const broken = (): string => {
      throw new Error('broken');
    };
    expect(resolveTaskName(broken, 'queue', 1, 2)).toBe('queue');
    expect(resolveTaskName(() => 7 as unknown as string, 'queue', 1, 2)).toBe('queue');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('taskName');
  });
});
