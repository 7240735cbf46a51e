/**
 * The serializer registry: look-up by name, WebSocket subprotocol or RawSocket id, and subprotocol
 * negotiation (the router picks its own best among what the client offered).
 */
import type { Serializer, SerializerName } from '../types';
import { cborSerializer } from './cbor';
import { jsonSerializer } from './json';
import { msgpackSerializer } from './msgpack';

export { jsonSerializer, jsonEncode, jsonDecode } from './json';
export { msgpackSerializer, msgpackEncode, msgpackDecode } from './msgpack';
export { cborSerializer, cborEncode, cborDecode } from './cbor';

/** Our preference, best first: binary formats are smaller and faster to parse. */
export const SERIALIZER_PREFERENCE: readonly SerializerName[] = ['msgpack', 'cbor', 'json'];

export const ALL_SERIALIZERS: readonly Serializer[] = [msgpackSerializer, cborSerializer, jsonSerializer];

/** name → serializer */
const byName = new Map<string, Serializer>(ALL_SERIALIZERS.map((s) => [s.name, s]));
/** subprotocol → serializer */
const bySubprotocol = new Map<string, Serializer>(ALL_SERIALIZERS.map((s) => [s.subprotocol, s]));
/** RawSocket serializer id → serializer */
const byRawsocketId = new Map<number, Serializer>(ALL_SERIALIZERS.map((s) => [s.rawsocketId, s]));

export function serializerByName(name: string): Serializer | undefined {
  return byName.get(name);
}
export function serializerBySubprotocol(protocol: string): Serializer | undefined {
  return bySubprotocol.get(protocol);
}
export function serializerByRawsocketId(id: number): Serializer | undefined {
  return byRawsocketId.get(id);
}

/** Whether `name` is a serializer we implement (for config validation). */
export function isSerializerName(name: string): name is SerializerName {
  return byName.has(name);
}

/**
 * Picks our best serializer among the subprotocols the client `offered` (e.g. ['wamp.2.json',
 * 'wamp.2.msgpack']) restricted to `allowed` (the transport's configured names; empty = all).
 * Preference is ours (msgpack, cbor, json), not the client's order. Undefined when nothing matches.
 */
export function negotiate(offered: Iterable<string>, allowed: readonly SerializerName[] = SERIALIZER_PREFERENCE): Serializer | undefined {
  const set = new Set(offered);
  for (const name of SERIALIZER_PREFERENCE) {
    if (allowed.length > 0 && !allowed.includes(name)) continue;
    const s = byName.get(name)!;
    if (set.has(s.subprotocol)) return s;
  }
  return undefined;
}
