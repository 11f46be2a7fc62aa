#!/usr/bin/env node
// `bin` entry: npm links this file, which loads tsx so the TypeScript CLI runs without a build step.
import { register } from "tsx/esm/api";

register();
const { main } = await import("./ktv.ts");
await main(process.argv);
