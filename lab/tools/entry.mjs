// Plain-JS entry for the lab shims: registers tsx, then runs the tool and exits with its code.
import { register } from 'tsx/esm/api';
register();
const { main } = await import('./main.ts');
const [tool, ...argv] = process.argv.slice(2);
process.exitCode = await main(tool, argv);
