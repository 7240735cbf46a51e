/** The consumer CLI (`sisock nodes | fields | get | tail`): time arguments, output formats, the commands' work. */
export * from './time';
export * from './format';
export * from './consumer';
export * from './connect';
export * from './call';
