// The `vigil` command run from source (bin/vigil.js runs the same main from dist/), so tests start
// real `vigil correlator` processes without a build step.
import { main } from '../../cli/index.js';

main(process.argv.slice(2)).then(
  (code) => {
    if (typeof code === 'number') process.exitCode = code;
  },
  (err) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exitCode = 1;
  },
);
