/** A Kubernetes resource quantity: "4", "500m", "16Gi", "1.5G", "2e3". */
export const QUANTITY_PATTERN = /^([+]?[0-9]+(\.[0-9]*)?|\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?$/;

const SUFFIX_FACTORS: Record<string, number> = {
  '': 1,
  'm': 1e-3,
  'k': 1e3,
  'M': 1e6,
  'G': 1e9,
  'T': 1e12,
  'P': 1e15,
  'E': 1e18,
  'Ki': 2 ** 10,
  'Mi': 2 ** 20,
  'Gi': 2 ** 30,
  'Ti': 2 ** 40,
  'Pi': 2 ** 50,
  'Ei': 2 ** 60,
};

/** Parses a quantity into its base unit (bytes for memory, cores for CPU). */
export function parseQuantity(quantity: string): number {
  const match = QUANTITY_PATTERN.exec(quantity);
  if (!match) {
    throw new Error(`"${quantity}" is not a Kubernetes quantity (e.g. "500m", "4", "16Gi")`);
  }
  const suffix = match[3] ?? '';
  const number = Number(match[1]);
  // An exponent ("2e3"), not the suffixes "E" (10^18) and "Ei" (2^60), which also start with "E".
  if (/^[eE][+-]?[0-9]+$/.test(suffix)) {
    return number * 10 ** Number(suffix.slice(1));
  }
  return number * SUFFIX_FACTORS[suffix];
}

/** Whole mebibytes, the unit the JVM's -Xmx takes without rounding surprises. */
/** Whether `value` is a Kubernetes quantity greater than zero, as every resource prop must be. */
export function isPositiveQuantity(value: string): boolean {
  return QUANTITY_PATTERN.test(value) && parseQuantity(value) > 0;
}

export function toMebibytes(bytes: number): number {
  return Math.floor(bytes / 2 ** 20);
}

/** Kubernetes counts resources in 64-bit integers of their smallest unit (bytes, millicores). */
export const MAX_QUANTITY_UNITS = 2 ** 63 - 1;

/** A whole number as a quantity's digits, never in exponent notation ("1e+21" is no quantity). */
export function integerDigits(value: number): string {
  const whole = Math.ceil(value);
  return Number.isSafeInteger(whole) ? String(whole) : BigInt(whole).toString();
}
