/** Resource attribute names from the OpenTelemetry semantic conventions that we set or read. */
export const ATTR_SERVICE_NAME = 'service.name';
export const ATTR_SERVICE_NAMESPACE = 'service.namespace';
export const ATTR_SERVICE_INSTANCE_ID = 'service.instance.id';
