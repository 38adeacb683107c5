// Entry point of bin/model-serving; cli/index.ts builds the program.
import { run } from './index';

run(process.argv.slice(2)).then((status) => {
  process.exitCode = status;
});
