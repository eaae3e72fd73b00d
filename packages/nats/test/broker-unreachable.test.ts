import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { connectJetStream, START_NATS } from './support/jetstream-broker.js';

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

describe('a test that needs NATS', () => {
  it('fails with how to start the server when nothing listens', async () => {
    const server = `127.0.0.1:${await closedPort()}`;
    await expect(connectJetStream(server)).rejects.toThrow(`Start it with: ${START_NATS}`);
    expect(START_NATS).toBe('nats-server -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server &');
  });
});
