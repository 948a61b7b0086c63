// Validates data contracts against the Open Data Contract Standard's JSON Schema with ajv.
// Usage: node odcs_validate.mjs <schema.json> < contracts.json   (a JSON array of contracts)
// Prints {"valid": [true, ...], "errors": [[...], ...]} and exits 0; exits 2 on bad input.
import { readFileSync } from "node:fs";
import Ajv2019 from "ajv/dist/2019.js";
import addFormats from "ajv-formats";

const schema = JSON.parse(readFileSync(process.argv[2], "utf8"));
const contracts = JSON.parse(readFileSync(0, "utf8"));
if (!Array.isArray(contracts)) {
  console.error("expected a JSON array of contracts on stdin");
  process.exit(2);
}
const ajv = new Ajv2019({ strict: false, allErrors: true });
addFormats(ajv);
const validate = ajv.compile(schema);
const valid = [];
const errors = [];
for (const c of contracts) {
  const ok = validate(c);
  valid.push(ok);
  errors.push(ok ? [] : validate.errors.map((e) => `${e.instancePath} ${e.message}`));
}
console.log(JSON.stringify({ valid, errors }));
