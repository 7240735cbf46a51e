/** The SQL bridge: columns of an existing MySQL/MariaDB or PostgreSQL table as sisock fields. */
export { loadSqlConfigFile, parseSqlConfig, checkIdentifier, type SqlConfig, type SqlColumn, type TimeType } from './config';
export { SqlSource, sqlTypeToField } from './source';
export { runSqlNode, type SqlNodeOptions } from './node';
