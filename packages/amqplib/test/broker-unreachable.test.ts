import { describe, expect, it } from 'vitest';
import { closedPort } from '@tasklens/test-utils';
import { connectRabbitMq } from './support/rabbitmq.js';

describe('a test that needs RabbitMQ', () => {
  it('fails with how to start the broker when nothing listens', async () => {
    const url = `amqp://guest:guest@127.0.0.1:${await closedPort()}`;
    const failure = connectRabbitMq(url);
    await expect(failure).rejects.toThrow(`RabbitMQ is not reachable at ${url}`);
    await expect(failure).rejects.toThrow('Start it with: rabbitmq-server -detached');
  });
});
