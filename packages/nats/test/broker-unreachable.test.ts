import { describe, expect, it } from 'vitest';
import { closedPort } from '@tasklens/test-utils';
import { connectJetStream } from './support/jetstream-broker.js';

describe('a test that needs NATS', () => {
  it('fails with how to start the server when nothing listens', async () => {
    const server = `127.0.0.1:${await closedPort()}`;
    const failure = connectJetStream(server);
    await expect(failure).rejects.toThrow(`NATS is not reachable at ${server}`);
    await expect(failure).rejects.toThrow(
      'Start it with: nats-server -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server &',
    );
  });
});
