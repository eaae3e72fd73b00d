import { propagation } from '@opentelemetry/api';
import { headers as createHeaders } from '@nats-io/nats-core';
import type { JsMsg } from '@nats-io/jetstream';
import type { MsgHdrs } from '@nats-io/nats-core';
import type { TaskCarrier } from '@tasklens/core';
import { LimitedWarning, TASKLENS_CARRIER_KEYS } from '@tasklens/core/adapter';

const unreadable = new LimitedWarning('could not read the headers of a NATS message');
const unwritable = new LimitedWarning('could not add task context to NATS headers');

/** The header JetStream deduplicates on (`msgID` of a publish). */
const MSG_ID_HEADER = 'Nats-Msg-Id';

/** What a consumer reads from a message's headers. */
export interface IncomingHeaders {
  /** Propagation fields, the enqueue time and the chain's start, as found (core validates them). */
  carrier: TaskCarrier | undefined;
  /** The publisher's `msgID`, when set. */
  msgId: string | undefined;
}

const NO_HEADERS: IncomingHeaders = { carrier: undefined, msgId: undefined };

/**
 * Picks the carrier fields and the message id out of a message's untrusted headers in one pass.
 * Other keys, however odd, are never touched; repeated keys give their first value. Headers the
 * client cannot decode give nothing (the task runs as a new trace).
 */
export function readIncomingHeaders(msg: JsMsg): IncomingHeaders {
  try {
    const headers = msg.headers;
    if (headers === undefined) return NO_HEADERS;
    const fields = propagation.fields();
    let carrier: TaskCarrier | undefined;
    let msgId: string | undefined;
    for (const [key, values] of headers) {
      if (key === MSG_ID_HEADER) {
        msgId = values[0];
      } else if (TASKLENS_CARRIER_KEYS.includes(key) || fields.includes(key)) {
        const value = values[0];
        // Only these known keys are written, so a plain object is safe here.
        if (value !== undefined) (carrier ??= {})[key] = value;
      }
    }
    return { carrier, msgId };
  } catch (error) {
    unreadable.report(error);
    return NO_HEADERS;
  }
}

/**
 * New headers holding the user's headers plus the carrier (the carrier's keys win). The user's
 * object is left as it was; on any problem the user's headers are returned unchanged.
 */
export function mergeCarrier(
  userHeaders: MsgHdrs | undefined,
  carrier: TaskCarrier,
): MsgHdrs | undefined {
  try {
    const merged = createHeaders();
    if (userHeaders !== undefined) {
      for (const [key, values] of userHeaders) {
        for (const value of values) merged.append(key, value);
      }
    }
    for (const key of Object.keys(carrier)) {
      const value = carrier[key];
      if (value !== undefined) merged.set(key, value);
    }
    return merged;
  } catch (error) {
    unwritable.report(error);
    return userHeaders;
  }
}
