import { getJson } from './http-json.js';

/** An alert as Alertmanager's API v2 (`/api/v2/alerts`) returns it, reduced to what tasklens reads. */
export interface AlertmanagerAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** ISO 8601. */
  startsAt: string;
  status: { state: string };
}

/** Reads the alerts Alertmanager holds. */
export class AlertmanagerClient {
  constructor(private readonly baseUrl: string) {}

  /** The alerts that fire now (active, and silenced or inhibited ones), oldest first. */
  async alerts(): Promise<AlertmanagerAlert[]> {
    const url = new URL('/api/v2/alerts', this.baseUrl);
    const body = (await getJson(url, 'Alertmanager')) as AlertmanagerAlert[];
    return [...body].sort((a, b) => a.startsAt.localeCompare(b.startsAt));
  }
}
