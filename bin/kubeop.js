#!/usr/bin/env node
// The `kubeop` executable. Runs the compiled build (dist/) when there is one, else the TypeScript
// sources directly with Node.js 24's type stripping.
import { existsSync } from 'node:fs';

const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  process.stderr.write(
    `kubeop: needs Node.js 24 or newer, found ${process.versions.node}; run it through npm (npm run kubeop -- <command>, npm start) so the pinned Node.js 24 is used\n`,
  );
  process.exit(2);
}

const compiled = new URL('../dist/main/entry.js', import.meta.url);
await import(existsSync(compiled) ? compiled.href : new URL('../src/main/entry.ts', import.meta.url).href);
