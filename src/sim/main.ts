/**
 * Runs the simulator directly: `node --import tsx src/sim/main.ts [options]` (same options as `mesh sim`).
 */
import { Command } from 'commander';
import { registerSimCommand } from './cli.ts';

const program = new Command().name('mesh-sim').showHelpAfterError('(run with --help for usage)');
// The sim command becomes the default so that `main.ts --graph …` works without the word "sim".
registerSimCommand(program);
const args = process.argv.slice(2);
await program.parseAsync(['node', 'mesh-sim', ...(args[0] === 'sim' ? args : ['sim', ...args])]);
