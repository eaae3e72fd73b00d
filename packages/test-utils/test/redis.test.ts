import { describe, expect, it } from 'vitest';
import { closedPort, requireRedis } from '@tasklens/test-utils';

describe('requireRedis', () => {
  it('fails with how to start Redis when nothing listens', async () => {
    const port = await closedPort();
    const failure = requireRedis(port);
    await expect(failure).rejects.toThrow(`Redis is not reachable on 127.0.0.1:${port}`);
    await expect(failure).rejects.toThrow(
      'start one with: redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379',
    );
  });
});
