/*
 * The process's list of attempts awaiting settlement, on stand-in attempts: the sweeper times
 * out only those past their deadline, removal anywhere in the list, and the bound.
 */
import { describe, expect, it, vi } from 'vitest';
import { openAttempts } from '../src/open-attempts.js';
import type { ExpiringAttempt } from '../src/open-attempts.js';

function standIn(label: string, deadline: number, expired: string[]): ExpiringAttempt {
  return {
    deadline,
    settleTimeoutMs: 40,
    expire: () => expired.push(label),
    openPrevious: undefined,
    openNext: undefined,
    isOpen: false,
  };
}

describe('openAttempts', () => {
  it('expires the deliveries past their deadline, whatever their place, and no others', async () => {
    const expired: string[] = [];
    const now = performance.now();
    const late = standIn('late', now + 60_000, expired);
    const first = standIn('first', now + 20, expired);
    const settled = standIn('settled', now + 20, expired);
    const last = standIn('last', now + 20, expired);
    for (const delivery of [late, first, settled, last]) openAttempts.add(delivery);
    openAttempts.delete(settled);
    openAttempts.delete(settled);

    await vi.waitFor(() => expect(expired.sort()).toEqual(['first', 'last']), { timeout: 2000 });
    expect([late.isOpen, first.isOpen, settled.isOpen, last.isOpen]).toEqual([
      true,
      false,
      false,
      false,
    ]);
    openAttempts.delete(late);
    expect(late.isOpen).toBe(false);
  });

  it('past 10 000 open attempts, times out the oldest first', () => {
    const expired: string[] = [];
    const far = performance.now() + 60_000;
    const attempts = Array.from({ length: 10_002 }, (_, index) =>
      standIn(String(index), far, expired),
    );
    for (const delivery of attempts) openAttempts.add(delivery);

    expect(expired).toEqual(['0', '1']);
    for (const delivery of attempts) openAttempts.delete(delivery);
    expect(attempts.some((attempt) => attempt.isOpen)).toBe(false);
  });
});
