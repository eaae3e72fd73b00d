export {
  startStack,
  stopStack,
  stackStatus,
  recordedStackEndpoints,
  restartStackComponent,
  defaultStateDir,
} from './stack.js';
export { setGatewayDnsRecords, stackPortsFrom } from './components.js';
export {
  buildStackBinaries,
  expectedBinaryPaths,
  expectedPromtoolPath,
  expectedVictoriaMetricsPath,
} from './binaries.js';
export { storeRuleVariant } from './store-rules.js';
export type { StoreRuleVariantOptions } from './store-rules.js';
export { stackFilesDir } from './stack-files.js';
export type {
  GatewayName,
  GatewayOptions,
  MetricsVia,
  RestartComponentOptions,
  RunningStack,
  StackBinaries,
  StackComponentName,
  StackComponentState,
  StackComponentStatus,
  StackEndpoints,
  StackPorts,
  StackStatus,
  StartStackOptions,
  StopStackResult,
  StoppedComponent,
} from './types.js';
