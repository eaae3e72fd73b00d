/*
 * The shared list of deliveries awaiting settlement, on stand-in deliveries: the sweeper times
 * out only those past their deadline, removal anywhere in the list, and the bound.
 */
import { describe, expect, it, vi } from 'vitest';
import { openDeliveries } from '../src/open-deliveries.js';
import type { ExpiringDelivery } from '../src/open-deliveries.js';

function standIn(label: string, deadline: number, expired: string[]): ExpiringDelivery {
  return {
    deadline,
    settleTimeoutMs: 40,
    expire: () => expired.push(label),
    openPrevious: undefined,
    openNext: undefined,
    isOpen: false,
  };
}

describe('openDeliveries', () => {
  it('expires the deliveries past their deadline, whatever their place, and no others', async () => {
    const expired: string[] = [];
    const now = performance.now();
    const late = standIn('late', now + 60_000, expired);
    const first = standIn('first', now + 20, expired);
    const settled = standIn('settled', now + 20, expired);
    const last = standIn('last', now + 20, expired);
    for (const delivery of [late, first, settled, last]) openDeliveries.add(delivery);
    openDeliveries.delete(settled);
    openDeliveries.delete(settled);

    await vi.waitFor(() => expect(expired.sort()).toEqual(['first', 'last']), { timeout: 2000 });
    expect([late.isOpen, first.isOpen, settled.isOpen, last.isOpen]).toEqual([
      true,
      false,
      false,
      false,
    ]);
    openDeliveries.delete(late);
    expect(late.isOpen).toBe(false);
  });

  it('past 10 000 open deliveries, times out the oldest first', () => {
    const expired: string[] = [];
    const far = performance.now() + 60_000;
    const deliveries = Array.from({ length: 10_002 }, (_, index) =>
      standIn(String(index), far, expired),
    );
    for (const delivery of deliveries) openDeliveries.add(delivery);

    expect(expired).toEqual(['0', '1']);
    for (const delivery of deliveries) openDeliveries.delete(delivery);
    expect(deliveries.some((delivery) => delivery.isOpen)).toBe(false);
  });
});
