// Types of generate-fleet.mjs, for the tests that synthesize generated fleets.
export declare const DEFAULT_BASE_FILE: string;
export declare const EXTRA_ENVIRONMENTS: readonly string[];
export declare function modelName(index: number, count: number): string;
export declare function generateFleet(options?: {
  models?: number;
  environments?: number | string[];
  /** A fleet file path or an already parsed fleet object (default: the repository's serving.yaml). */
  base?: string | object;
  version?: string;
  bucket?: string;
}): string;
