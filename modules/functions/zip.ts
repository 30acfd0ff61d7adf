import { crc32, deflateRawSync } from 'node:zlib';

/** One file of a {@link deterministicZip} archive. */
export interface ZipEntry {
  /** Path inside the archive, `/`-separated, no leading slash. */
  readonly name: string;
  readonly data: Buffer;
}

/** MS-DOS date of 1980-01-01 (the earliest a zip can carry) and time 00:00:00. */
const DOS_DATE_1980_01_01 = (0 << 9) | (1 << 5) | 1;
const DOS_TIME_MIDNIGHT = 0;
/** "Made by" Unix (3) with zip spec 2.0, so the external attributes carry the file mode. */
const VERSION_MADE_BY_UNIX = (3 << 8) | 20;
const VERSION_NEEDED = 20;
/** Bit 11: names are UTF-8. */
const FLAG_UTF8 = 0x0800;
/** Regular file, rw-r--r--, in the high 16 bits as Info-ZIP writes it. */
const EXTERNAL_ATTRIBUTES_FILE_0644 = (0o100644 << 16) >>> 0;
const METHOD_STORED = 0;
const METHOD_DEFLATED = 8;
const MAX_32 = 0xffffffff;

/**
 * Writes a zip archive whose bytes depend only on the entries: entries sorted by name, every
 * timestamp 1980-01-01 00:00, fixed file modes, no extra fields, maximum compression. The same
 * sources therefore give the same archive (and the same Terraform asset hash) on every synth.
 * No ZIP64: Lambda's own limits keep packages far below 4 GiB.
 */
export function deterministicZip(entries: readonly ZipEntry[]): Buffer {
  const sorted = [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const seen = new Set<string>();
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of sorted) {
    if (!entry.name || entry.name.startsWith('/') || entry.name.includes('\\') || entry.name.includes('..')) {
      throw new Error(`zip entry name must be a relative /-separated path, got "${entry.name}"`);
    }
    if (seen.has(entry.name)) throw new Error(`duplicate zip entry "${entry.name}"`);
    seen.add(entry.name);
    const name = Buffer.from(entry.name, 'utf8');
    const deflated = deflateRawSync(entry.data, { level: 9 });
    const stored = deflated.length >= entry.data.length;
    const body = stored ? entry.data : deflated;
    const checksum = crc32(entry.data) >>> 0;
    if (entry.data.length > MAX_32 || offset > MAX_32) throw new Error(`zip too large at "${entry.name}"`);

    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(VERSION_NEEDED, 4);
    local.writeUInt16LE(FLAG_UTF8, 6);
    local.writeUInt16LE(stored ? METHOD_STORED : METHOD_DEFLATED, 8);
    local.writeUInt16LE(DOS_TIME_MIDNIGHT, 10);
    local.writeUInt16LE(DOS_DATE_1980_01_01, 12);
    local.writeUInt32LE(checksum, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(entry.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);

    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(VERSION_MADE_BY_UNIX, 4);
    central.writeUInt16LE(VERSION_NEEDED, 6);
    central.writeUInt16LE(FLAG_UTF8, 8);
    central.writeUInt16LE(stored ? METHOD_STORED : METHOD_DEFLATED, 10);
    central.writeUInt16LE(DOS_TIME_MIDNIGHT, 12);
    central.writeUInt16LE(DOS_DATE_1980_01_01, 14);
    central.writeUInt32LE(checksum, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(entry.data.length, 24);
    central.writeUInt16LE(name.length, 28);
    // extra length, comment length, disk number start, internal attributes: all zero
    central.writeUInt32LE(EXTERNAL_ATTRIBUTES_FILE_0644, 38);
    central.writeUInt32LE(offset, 42);

    locals.push(local, name, body);
    centrals.push(central, name);
    offset += local.length + name.length + body.length;
  }
  const centralDirectory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(sorted.length, 8);
  end.writeUInt16LE(sorted.length, 10);
  end.writeUInt32LE(centralDirectory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, centralDirectory, end]);
}
