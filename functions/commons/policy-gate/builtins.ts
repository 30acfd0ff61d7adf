import { RFC3339 } from './schema';

/**
 * `time.parse_rfc3339_ns` for the WebAssembly policy: OPA's wasm target leaves time
 * builtins to the host. Accepts what Go's `time.Parse(time.RFC3339Nano, …)` accepts and
 * returns nanoseconds since the epoch as a JavaScript number (exact to well under a
 * microsecond, which is all comparing freeze windows needs). Malformed input returns
 * `undefined`, which the policy sees as an undefined expression, just as `opa eval` does
 * when the Go builtin fails.
 */
export function parseRfc3339Ns(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const m = RFC3339.exec(value);
  if (!m) return undefined;
  const [, year, month, day, hour, minute, second, fraction, zone, sign, offH, offM] = m;
  const [y, mo, d, h, mi, s] = [year, month, day, hour, minute, second].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (mo < 1 || mo > 12 || h > 23 || mi > 59 || s > 59) return undefined;
  const epochMs = Date.UTC(y, mo - 1, d, h, mi, s);
  if (new Date(epochMs).getUTCDate() !== d) return undefined;
  let offsetMinutes = 0;
  if (zone !== 'Z') {
    const [hours, minutes] = [Number(offH), Number(offM)];
    if (hours > 23 || minutes > 59) return undefined;
    offsetMinutes = (sign === '-' ? -1 : 1) * (hours * 60 + minutes);
  }
  const fractionNs = fraction ? Number(fraction.slice(1, 10).padEnd(9, '0')) : 0;
  return (epochMs - offsetMinutes * 60_000) * 1e6 + fractionNs;
}

/** Host implementations of builtins the policy uses and OPA's wasm runtime does not provide. */
export const wasmBuiltins = {
  'time.parse_rfc3339_ns': parseRfc3339Ns,
};
