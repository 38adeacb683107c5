// The cdk8s app (cdk8s.yaml: `node bin/run-ts.mjs main.ts`; `npm run synth` runs the same):
// `model-serving synth` with the same options, so the app and the CLI cannot drift apart.
//
//   npm run synth [-- --config <file>]     # atomic; dist/ beside the fleet file by default
//   npx cdk8s synth [-o DIR]               # the cdk8s CLI sets CDK8S_OUTDIR
import { run } from './cli';

run(['synth', ...process.argv.slice(2)]).then((status) => {
  process.exitCode = status;
});
