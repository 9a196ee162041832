/** pgpass (node-postgres' own reader of libpq's password file, ~/.pgpass or PGPASSFILE); it has no types. */
declare module 'pgpass' {
  /** Calls back with the password of the first matching line, or undefined (no file, no match, or a file readable by others). */
  function pgPass(
    connInfo: { host?: string; port?: string | number; database?: string; user?: string },
    cb: (password: string | undefined) => void,
  ): void;
  export default pgPass;
}
