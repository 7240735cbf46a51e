/** The hub registry (see hub.ts for the procedures, topics and the re-announce protocol). */
export { runHub } from './hub';
export type { HubHandle, HubOptions, NodeRecord } from './hub';
