/** Character classes the rules refuse in names, keys, hosts, users and values. */

/** Control characters (C0, DEL, C1): never part of a name, key, host or user. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
export const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
export const NUL = '\u0000';
