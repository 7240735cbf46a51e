/**
 * Prometheus counters of the MQTT bridge, read from the ingest's stats at scrape time:
 *   sisock_mqtt_messages_received_total        messages from the broker
 *   sisock_mqtt_messages_rejected_total        messages that did not map (dead letters)
 *   sisock_mqtt_samples_inserted_total         samples written to the history
 *   sisock_mqtt_broker_dropped_total           rises of the broker's $SYS dropped counter (broker-wide)
 *   sisock_mqtt_sequence_missing_total         messages missing in sequence-number jumps
 *   sisock_mqtt_connected                      1 while connected to the broker
 */
import { Gauge, type Registry } from 'prom-client';
import { scrapedTotal } from '../../common/metrics';
import type { IngestStats } from './ingest';

export function registerMqttMetrics(stats: () => IngestStats, registry: Registry): void {
  const registers = [registry];
  const total = (name: string, help: string, read: (s: IngestStats) => number): void =>
    scrapedTotal(registry, name, help, () => read(stats()));
  total('sisock_mqtt_messages_received_total', 'MQTT messages received from the broker', (s) => s.received);
  total('sisock_mqtt_messages_rejected_total', 'MQTT messages that did not map (kept as dead letters)', (s) => s.rejected);
  total('sisock_mqtt_samples_inserted_total', 'Samples written to the history', (s) => s.inserted);
  total(
    'sisock_mqtt_broker_dropped_total',
    'Messages the broker reports dropped ($SYS/broker/publish/messages/dropped, broker-wide)',
    (s) => s.brokerDropped,
  );
  total('sisock_mqtt_sequence_missing_total', "Messages missing in jumps of the payloads' sequence numbers", (s) => s.seqMissing);
  new Gauge({
    name: 'sisock_mqtt_connected',
    help: '1 while connected to the MQTT broker',
    registers,
    collect() {
      this.set(stats().connected ? 1 : 0);
    },
  });
}
