/**
 * How big log chunks are stored: the `packed` column of log_chunks holds the chunk's UTF-8 text compressed,
 * and `text` is then ''. New chunks are Zstandard (level 1): in the bench's 100 MB profile the log writer's
 * thread spent most of its time in deflate, and zstd level 1 compresses log text about 1.6× faster and a
 * little smaller. Chunks written before are raw deflate (RFC 1951) and still read: a Zstandard frame begins
 * with the magic number 28 B5 2F FD (RFC 8878 §3.1.1), which a raw deflate stream cannot begin with (a first
 * byte 0x28 is a stored block, whose length and its complement would have to be 0x2FB5 and 0xD04A).
 */
import { constants, inflateRawSync, zstdCompressSync, zstdDecompressSync } from 'node:zlib';

/** Chunks from this many characters on are stored packed: writing less is what makes big outputs fast. */
export const PACK_FROM = 8 * 1024;

/** A chunk's text (or its UTF-8 bytes: the same result), compressed for the `packed` column. */
export function packLogText(text: string | Uint8Array): Buffer {
  return zstdCompressSync(text, { params: { [constants.ZSTD_c_compressionLevel]: 1 } });
}

/** The text of a `packed` column: Zstandard, or raw deflate as written before. Throws on corrupt data. */
export function unpackLogText(packed: Uint8Array): string {
  const zstd = packed[0] === 0x28 && packed[1] === 0xb5 && packed[2] === 0x2f && packed[3] === 0xfd;
  return (zstd ? zstdDecompressSync(packed) : inflateRawSync(packed)).toString('utf8');
}
