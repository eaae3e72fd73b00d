import { diag } from '@opentelemetry/api';
import type { Attributes } from '@opentelemetry/api';
import {
  ATTR_ERROR_TYPE,
  ATTR_MESSAGING_SYSTEM,
  ATTR_TASK_NAME,
  ATTR_TASK_OUTCOME,
  ATTR_TASK_QUEUE,
} from './semconv.js';
import type { SeriesPoints } from './task-histograms.js';
import type { TaskOutcome } from './types.js';

/** Most distinct (task, queue, system) series kept; task names must be kinds of work, not ids. */
export const MAX_SERIES = 2000;

/** Gauge state of one task name (last success) and of one (task, queue) pair (in flight). */
export interface GaugeState {
  readonly attributes: Attributes;
  value: number | undefined;
}

/**
 * The attribute sets of one (task name, queue, messaging system) series, built once and reused
 * by every attempt, with the shared in-flight and last-success state the observable
 * instruments report. In-flight and last success are kept here rather than recorded through
 * the SDK on every task, which keeps a task's metric cost to one histogram record.
 */
export interface TaskSeries {
  /** task.name, task.queue, messaging.system: the labels of wait and of outcome-less metrics. */
  readonly attributes: Attributes;
  /** task.name and task.queue: the labels of in-flight and retries. */
  readonly activeAttributes: Attributes;
  readonly successAttributes: Attributes;
  readonly cancelledAttributes: Attributes;
  /** task.name, task.queue and outcome `success`: the labels of a successful pipeline duration. */
  readonly pipelineSuccessAttributes: Attributes;
  /**
   * The (task name, queue) pair, which series of different messaging systems share: the pipeline
   * duration is labelled by it and the outcome only.
   */
  readonly queueKey: string;
  readonly active: GaugeState;
  readonly lastSuccess: GaugeState;
  /** Past the series limit: not kept, so a new object for every attempt. */
  readonly overflowed: boolean;
  /** This series' points in the histograms tasklens keeps itself (see task-histograms.ts). */
  points: SeriesPoints | undefined;
}

const seriesByKey = new Map<string, TaskSeries>();
export const activeByKey = new Map<string, GaugeState>();
export const lastSuccessByName = new Map<string, GaugeState>();
let overflowWarned = false;

function gauge<K>(map: Map<K, GaugeState>, key: K, attributes: Attributes): GaugeState {
  let state = map.get(key);
  if (state === undefined) {
    state = { attributes, value: undefined };
    map.set(key, state);
  }
  return state;
}

function buildSeries(
  name: string,
  queue: string | undefined,
  system: string | undefined,
): TaskSeries {
  const activeAttributes: Attributes = { [ATTR_TASK_NAME]: name };
  if (queue !== undefined) activeAttributes[ATTR_TASK_QUEUE] = queue;
  const attributes: Attributes = { ...activeAttributes };
  if (system !== undefined) attributes[ATTR_MESSAGING_SYSTEM] = system;
  const queueKey = `${name}\u0000${queue ?? ''}`;
  return {
    attributes,
    activeAttributes,
    successAttributes: { ...attributes, [ATTR_TASK_OUTCOME]: 'success' },
    cancelledAttributes: { ...attributes, [ATTR_TASK_OUTCOME]: 'cancelled' },
    pipelineSuccessAttributes: { ...activeAttributes, [ATTR_TASK_OUTCOME]: 'success' },
    queueKey,
    active: gauge(activeByKey, queueKey, activeAttributes),
    lastSuccess: gauge(lastSuccessByName, name, { [ATTR_TASK_NAME]: name }),
    overflowed: false,
    points: undefined,
  };
}

/** The series of a task; past {@link MAX_SERIES} series, new ones are built but not reported. */
export function taskSeries(
  name: string,
  queue: string | undefined,
  system: string | undefined,
): TaskSeries {
  // A worker mostly runs one kind of task after another: the last series, without a lookup.
  const last = lastSeries;
  if (last !== undefined && last.name === name && last.queue === queue && last.system === system) {
    return last.series;
  }
  const series = lookUpSeries(name, queue, system);
  if (!series.overflowed) lastSeries = { name, queue, system, series };
  return series;
}

let lastSeries:
  | { name: string; queue: string | undefined; system: string | undefined; series: TaskSeries }
  | undefined;

function lookUpSeries(
  name: string,
  queue: string | undefined,
  system: string | undefined,
): TaskSeries {
  const key = `${name}\u0000${queue ?? ''}\u0000${system ?? ''}`;
  const known = seriesByKey.get(key);
  if (known !== undefined) return known;
  if (seriesByKey.size >= MAX_SERIES) {
    if (!overflowWarned) {
      overflowWarned = true;
      diag.warn(
        `tasklens: more than ${MAX_SERIES} (task, queue, system) series; task.active and ` +
          'task.last_success are not reported for further ones. Task names and queues must be ' +
          'kinds of work, not ids.',
      );
    }
    return {
      ...buildSeries(name, queue, system),
      active: { attributes: {}, value: undefined },
      lastSuccess: { attributes: {}, value: undefined },
      overflowed: true,
    };
  }
  const series = buildSeries(name, queue, system);
  seriesByKey.set(key, series);
  return series;
}

/** The attributes of a duration record: the series', the outcome and the error type. */
export function outcomeAttributes(
  series: TaskSeries,
  outcome: TaskOutcome,
  errorType: string | undefined,
): Attributes {
  if (outcome === 'success') return series.successAttributes;
  if (outcome === 'cancelled') return series.cancelledAttributes;
  return { ...series.attributes, [ATTR_TASK_OUTCOME]: outcome, [ATTR_ERROR_TYPE]: errorType };
}

/** The attributes of a pipeline duration record: task name, queue and outcome only. */
export function pipelineAttributes(series: TaskSeries, outcome: TaskOutcome): Attributes {
  if (outcome === 'success') return series.pipelineSuccessAttributes;
  return { ...series.activeAttributes, [ATTR_TASK_OUTCOME]: outcome };
}
