import type { AlertmanagerAlert } from '../alertmanager-client.js';
import type { ConsoleAlert } from './api-types.js';

/** An Alertmanager alert as the console's alerts page shows it, with the task its labels name. */
export function alertView(alert: AlertmanagerAlert): ConsoleAlert {
  const { labels, annotations } = alert;
  const task = labels.task_name;
  return {
    name: labels.alertname ?? 'unnamed',
    state: alert.status.state,
    severity: labels.severity ?? '',
    summary: annotations.summary ?? '',
    description: annotations.description ?? '',
    labels: Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)),
    startsAt: Date.parse(alert.startsAt),
    task:
      task === undefined
        ? null
        : {
            task,
            ...(labels.job === undefined ? {} : { service: labels.job }),
            ...(labels.task_queue === undefined ? {} : { queue: labels.task_queue }),
          },
  };
}
