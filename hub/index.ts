/** The hub registry (see hub.ts for the procedures, topics and the re-announce protocol). */
export { runHub } from './hub';
export type { HubHandle, HubOptions } from './hub';
export { NodeRegistry, DEFAULT_REGISTRY_LIMITS } from './registry';
export type { NodeRecord, RegistryLimits, AddOutcome } from './registry';
