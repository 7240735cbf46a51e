export * from './codes';
export * from './errors';
export * from './messages';
export * from './protocol-error';
export * from './wamp-error';
export * from './ids';
export * from './uri';
export * from './features';
