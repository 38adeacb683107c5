/** Options every command accepts (declared on the root program). */
export interface GlobalOptions {
  /** The fleet file: --config, else $SERVING_CONFIG, else serving.yaml. */
  readonly config: string;
}
