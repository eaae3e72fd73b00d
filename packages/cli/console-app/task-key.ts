/** A task's identity in addresses: `service`, `task`, `queue`, `system` query parameters. */
import type { TaskKey } from '../src/console/api-types';
import { pathWith } from './router';

/** The task the address selects, if it names one. */
export function taskKeyOf(url: URL): TaskKey | undefined {
  const task = url.searchParams.get('task');
  if (task === null) return undefined;
  return {
    service: url.searchParams.get('service') ?? '',
    task,
    queue: url.searchParams.get('queue') ?? '',
    system: url.searchParams.get('system') ?? '',
  };
}

export function sameTask(a: TaskKey, b: TaskKey): boolean {
  return (
    a.service === b.service && a.task === b.task && a.queue === b.queue && a.system === b.system
  );
}

/** The failures page for a task (any of its parts may be missing), in a range. */
export function failuresPath(task: Partial<TaskKey>, range?: string): string {
  return pathWith('/failures', {
    task: task.task,
    service: task.service,
    queue: task.queue,
    range,
  });
}
