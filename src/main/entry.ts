import { runCli } from './cli.ts';

// Process entry: real environment, real streams, real signals.
const code = await runCli(process.argv.slice(2), {
  env: process.env,
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  onStarted: (svc) => {
    svc.lifecycle.handleSignals((c) => process.exit(c));
    svc.lifecycle.exitWithParent((c) => process.exit(c));
  },
});
if (code !== undefined) process.exitCode = code;
