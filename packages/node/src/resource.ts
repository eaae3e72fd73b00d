import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import type { Resource } from '@opentelemetry/resources';
import type { ResourceAttributeValue } from './types.js';

/** The SDK's default resource (`telemetry.sdk.*`) with the resolved attributes over it. */
export function createResource(attributes: Record<string, ResourceAttributeValue>): Resource {
  return defaultResource().merge(resourceFromAttributes(attributes));
}
