/*
 * A webhook receiver on 127.0.0.1 standing in for a notification channel: Alertmanager posts its
 * notifications here, and tests wait for the alert they expect.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { eventually } from '@tasklens/test-utils';

/** One alert of an Alertmanager webhook notification. */
export interface WebhookAlert {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
}

/** What the webhook received: the notification's body and when it arrived. */
export interface Notification {
  receivedAt: number;
  receiver: string;
  alerts: WebhookAlert[];
}

export interface AlertWebhook {
  /** The URL to give Alertmanager. */
  readonly url: string;
  /** Every notification received so far, in arrival order. */
  readonly notifications: readonly Notification[];
  /**
   * The first firing alert with these labels that reached the webhook, and when it arrived;
   * rejects after `limitMs` naming `what` and the labels received so far.
   */
  awaitAlert(
    what: string,
    labels: Record<string, string>,
    limitMs: number,
  ): Promise<{ alert: WebhookAlert; receivedAt: number }>;
  close(): Promise<void>;
}

/** Starts the webhook on a free port of 127.0.0.1. */
export async function startAlertWebhook(): Promise<AlertWebhook> {
  const notifications: Notification[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      try {
        const parsed = JSON.parse(body) as Omit<Notification, 'receivedAt'>;
        notifications.push({ ...parsed, receivedAt: Date.now() });
      } catch {
        // Not a notification; the tests only look at the ones they can read.
      }
      response.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/alerts`,
    notifications,
    awaitAlert: (what, labels, limitMs) =>
      eventually(
        `${what} at the webhook (received so far: ${JSON.stringify(
          notifications.flatMap((notification) => notification.alerts.map((alert) => alert.labels)),
        )})`,
        () => {
          for (const notification of notifications) {
            const alert = notification.alerts.find(
              (candidate) =>
                candidate.status === 'firing' &&
                Object.entries(labels).every(([name, value]) => candidate.labels[name] === value),
            );
            if (alert !== undefined) {
              return Promise.resolve({ alert, receivedAt: notification.receivedAt });
            }
          }
          return Promise.resolve(undefined);
        },
        limitMs,
      ),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
