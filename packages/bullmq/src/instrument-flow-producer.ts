import { diag } from '@opentelemetry/api';
import type { FlowJob, FlowProducer, JobNode } from 'bullmq';
import { withCarrier } from './job-carrier.js';
import { deferred, sendOptionsOf, setJobId, startDeferredSend } from './producer-span.js';
import { watchFlowQueues } from './queue-depth.js';
import type { ProducerOptions } from './types.js';

type AnyFlowProducer = FlowProducer;
type AddFlow = AnyFlowProducer['add'];
type AddFlows = AnyFlowProducer['addBulk'];

/** A node of a flow tree as the user gives it (the root or any child). */
interface FlowNode {
  name: string;
  queueName: string;
  data?: unknown;
  opts?: FlowJob['opts'];
  children?: FlowNode[];
}

const instrumented = new WeakSet<object>();

/**
 * Instruments a BullMQ `FlowProducer` instance: `add` and `addBulk` then create one PRODUCER span
 * per job of the flow (`send {queue}`), nested like the flow (each child's span is a child of its
 * parent job's span, the root job's span holds the whole flow), and carry each span's context in
 * its job. Every job's process span then joins the trace under its own send span. The queues
 * the flows add jobs to are polled for their depth (`queueDepth`). Returns the same flow
 * producer; instrumenting it twice changes nothing.
 *
 * @example
 * const flows = instrumentFlowProducer(new FlowProducer({ connection }));
 * await flows.add({
 *   name: 'render-video', queueName: 'videos',
 *   children: [{ name: 'transcode', queueName: 'transcoding', data: { format: 'webm' } }],
 * });
 */
export function instrumentFlowProducer<F extends AnyFlowProducer>(
  flowProducer: F,
  options: ProducerOptions = {},
): F {
  if (instrumented.has(flowProducer)) return flowProducer;
  try {
    const add: AddFlow = flowProducer.add.bind(flowProducer);
    flowProducer.add = async (flow, opts) => {
      watchFlowQueues(flowProducer, flow, options);
      const added = deferred<JobNode>();
      const prepared = (await sendNode(flow, options, added.promise)) as FlowJob;
      const result = add(prepared, opts);
      added.settle(result);
      return result;
    };
    const addBulk: AddFlows = flowProducer.addBulk.bind(flowProducer);
    flowProducer.addBulk = async (flows) => {
      if (!Array.isArray(flows)) return addBulk(flows);
      for (const flow of flows) watchFlowQueues(flowProducer, flow, options);
      const added = deferred<JobNode[]>();
      const prepared = await Promise.all(
        flows.map((flow, index) =>
          sendNode(
            flow,
            options,
            added.promise.then((nodes) => nodes[index]),
          ),
        ),
      );
      const result = addBulk(prepared);
      added.settle(result);
      return result;
    };
    instrumented.add(flowProducer);
  } catch (error) {
    diag.error(
      'tasklens: could not instrument a BullMQ flow producer; it works uninstrumented',
      error,
    );
  }
  return flowProducer;
}

/**
 * Starts the send span of `node` and, inside it, those of its children; resolves with a copy of
 * the node whose jobs carry their spans' contexts. The spans end once `added` settles.
 */
function sendNode(
  node: FlowNode,
  options: ProducerOptions,
  added: Promise<JobNode | undefined>,
): Promise<FlowNode> {
  return startDeferredSend(
    sendOptionsOf(node, options),
    async (carrier): Promise<FlowNode> => {
      const copy: FlowNode = { ...node, opts: withCarrier(node.opts, carrier) };
      if (Array.isArray(node.children)) {
        copy.children = await Promise.all(
          node.children.map((child, index) =>
            sendNode(
              child,
              options,
              added.then((jobNode) => jobNode?.children?.[index]),
            ),
          ),
        );
      }
      return copy;
    },
    added,
    (span, jobNode) => setJobId(span, jobNode?.job),
    node,
  );
}
