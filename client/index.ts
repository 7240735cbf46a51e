/** The sisock client: one typed wrapper over autobahn used by every sisock program. */
export { SisockClient, createClient, CallError, CallResult, HandlerError } from './client';
/** The WAMP error URIs (errors a handler throws, errors a call gets), named once in the protocol core. */
export { ErrorUri } from '../wamp/errors';
/** The WAMP meta API's URIs (wamp.session.*, wamp.registration.*, wamp.subscription.*), named once in the protocol core. */
export { MetaUri } from '../wamp/meta-uris';
export type { Handler, EventHandler, InvocationDetails, CallOptions, Handle, RefusalInfo } from './client';
export { classifyCallError, classifyErrorUri } from './errors';
export type { CallErrorKind } from './errors';
export { clientOptionsFromEnv, addClientOptions, logLevelFrom } from './options';
export type { ClientOptions, CommonFlags, AuthMethod, SerializerChoice } from './options';
export { getData, getFields, listNodes, subscribeLive, mergeDataResults } from './data';
export type { DataResult, FieldsResult, FieldInfo, NodeEntry } from './data';
