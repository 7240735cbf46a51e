/** The sensors data node (this host's telemetry) and the ring buffer it shares with the sim node. */
export { SensorsSource, SENSORS_TIMELINE, DEFAULT_SENSORS_INTERVAL, DEFAULT_SENSORS_CAPACITY, type SensorsOptions } from './source';
export { RingBuffer, type ChannelSpec } from '../sdk/ring-buffer';
export { PeriodicRingSource, RingSource, type RingFieldSpec } from '../sdk/ring-source';
export * from './procfs';
export { runSensorsNode, type SensorsNodeOptions } from './node';
