import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { printContractSchema } from './print.js';

/** CLI: writes packages/schema/schema.graphql. */
const target = fileURLToPath(new URL('../schema.graphql', import.meta.url));
writeFileSync(target, printContractSchema());
console.log(`wrote ${target}`);
