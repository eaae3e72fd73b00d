#!/usr/bin/env node
import module from 'node:module';

// From Node.js 22.8 on, enableCompileCache() keeps the compiled code of the modules loaded after
// it in a cache on disk (in the temporary directory, or $NODE_COMPILE_CACHE;
// NODE_DISABLE_COMPILE_CACHE=1 turns it off), so that a job run every minute does not compile the
// command line again at each start; Node.js 20 has no such cache. The command line is imported
// after this line for that reason, which is also why scripts/bundle-cli.js bundles it into a file
// apart from this one.
(module as { enableCompileCache?: () => unknown }).enableCompileCache?.();

const { main } = await import('./main.js');
process.exitCode = await main(process.argv.slice(2));
