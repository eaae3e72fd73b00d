/*
 * What a process remembers of messages and jobs, bounded: the oldest written goes first, the
 * forgetting is warned about, a key written again is the newest.
 */
import { describe, expect, it } from 'vitest';
import { BoundedMap, LimitedWarning } from '@tasklens/core/adapter';
import { captureDiagWarnings } from '@tasklens/test-utils';

describe('BoundedMap', () => {
  it('forgets the oldest written past its size, says so, and keeps a key written again', () => {
    const warnings = captureDiagWarnings();
    const map = new BoundedMap<number>(2, new LimitedWarning('forgot one'));
    map.set('a', 1);
    map.set('b', 2);
    map.set('a', 3);
    map.set('c', 4);
    expect([map.get('a'), map.get('b'), map.get('c'), map.size]).toEqual([3, undefined, 4, 2]);
    expect(warnings).toEqual(['tasklens: forgot one; said at most once a minute']);
    expect(map.delete('a')).toBe(true);
    expect(map.delete('a')).toBe(false);
  });
});
