/** The MQTT bridge: MQTT topics → fields of sisock data nodes, with history in SQLite. */
export {
  loadMqttConfigFile,
  parseMqttConfig,
  parsePath,
  type MqttConfig,
  type TopicRule,
  type CommandRule,
  type StoreConfig,
  type BrokerConfig,
} from './config';
export { TopicPattern, Template, filterMatches } from './topic';
export { mapMessage, toSeconds, REJECT_REASONS, type MapResult, type Mapped, type Rejected, type RejectReason } from './mapping';
export { MqttStore, alignRows, type FieldRecord, type DeadLetter, type FlushResult } from './store';
export { MqttIngest, type IngestStats } from './ingest';
export { runMqttNode, StoreSource, commandHandler, type MqttNodeHandle, type MqttNodeOptions } from './node';
export { startEmbeddedBroker, type EmbeddedBroker } from './broker';
export { startSimDevice, parseSettings, type SimDevice, type SimDeviceOptions } from './sim-device';
export { startMqttDemo, mqttExamplesDir, type MqttDemo, type MqttDemoOptions } from './demo';
