import { describe, expect, it } from 'vitest';
import { connectJetStream, START_NATS } from './support/jetstream-broker.js';
import { closedPort } from '@tasklens/test-utils';

describe('a test that needs NATS', () => {
  it('fails with how to start the server when nothing listens', async () => {
    const server = `127.0.0.1:${await closedPort()}`;
    await expect(connectJetStream(server)).rejects.toThrow(`Start it with: ${START_NATS}`);
    expect(START_NATS).toBe('nats-server -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server &');
  });
});
