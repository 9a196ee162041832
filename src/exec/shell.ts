import { randomBytes } from 'node:crypto';

/** Quotes a value for POSIX sh: everything literal inside single quotes. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

export function randomToken(bytes = 12): string {
  return randomBytes(bytes).toString('hex');
}

/**
 * A shell fragment that writes content to path through a quoted here-document, so that nothing in it is
 * expanded. The delimiter is random and checked against the content. A missing final newline is added.
 */
export function heredocFile(path: string, content: string): string {
  let delimiter = `CRONIUM_EOF_${randomToken(8)}`;
  while (content.includes(delimiter)) delimiter = `CRONIUM_EOF_${randomToken(8)}`;
  const body = content.endsWith('\n') ? content : content + '\n';
  return `cat > ${path} <<'${delimiter}'\n${body}${delimiter}\n`;
}

export function exportLine(key: string, value: string): string {
  return `export ${key}=${shellQuote(value)}\n`;
}
