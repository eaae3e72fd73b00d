import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startOtlpReceiver } from '@tasklens/test-utils';
import type { OtlpReceiver } from '@tasklens/test-utils';
import { OtlpHttpPoster } from '../src/otlp-http-post.js';
import { Spool } from '../src/spool.js';

let receiver: OtlpReceiver | undefined;

afterEach(async () => {
  await receiver?.close();
  receiver = undefined;
});

/** An OTLP/JSON request of one span, named so that the test can tell which arrived. */
function spanRequest(name: string): Uint8Array {
  const span = {
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    name,
    kind: 1,
    startTimeUnixNano: '1',
    endTimeUnixNano: '2',
  };
  return Buffer.from(
    JSON.stringify({
      resourceSpans: [{ resource: {}, scopeSpans: [{ scope: {}, spans: [span] }] }],
    }),
  );
}

describe('the spool’s backlog', () => {
  it('sends every entry, one kept while the directory opens or while a drain pass lists it included', async () => {
    receiver = await startOtlpReceiver();
    const traces = { url: `${receiver.endpoint}/v1/traces`, headers: {}, timeoutMs: 5000 };
    const kept: string[] = [];
    // Each round: the first entry is kept as the spool opens its directory, then a drain pass
    // starts (the collector answered) while a second entry is being kept, a little later in each
    // round, so that the pass's listing and the entry's write interleave differently each time.
    for (let round = 0; round < 120; round++) {
      const path = join(mkdtempSync(join(tmpdir(), 'tasklens-spool-backlog-')), 'service');
      const spool = new Spool(path, 1_000_000, { traces }, new OtlpHttpPoster());
      spool.start();
      const first = `first-${round}`;
      const second = `second-${round}`;
      await spool.keep({ kind: 'traces', items: 1, body: spanRequest(first) });
      spool.collectorAnswered();
      for (let hop = 0; hop < round % 40; hop++)
        await new Promise((resolve) => setImmediate(resolve));
      await spool.keep({ kind: 'traces', items: 1, body: spanRequest(second) });
      kept.push(first, second);
      await spool.close();
      expect(readdirSync(path).filter((name) => name.endsWith('.json'))).toEqual([]);
      rmSync(dirname(path), { recursive: true, force: true });
    }
    expect(
      receiver
        .spans()
        .map((span) => span.name)
        .sort(),
    ).toEqual(kept.sort());
  });
});
