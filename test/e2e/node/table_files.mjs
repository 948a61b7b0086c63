// Reads what lakemesh wrote for an Iceberg table with readers other than lakemesh's: each
// Parquet data file with hyparquet (rows and the Iceberg field ids of its columns), and checks a
// server-side scan plan against the REST spec's PlanTableScanResult schema with ajv.
// Usage: node table_files.mjs SPEC_YAML PLAN_JSON_FILE PARQUET_FILE...
// Prints {"files": [{"path", "rows", "field_ids"}]} as JSON; exits non-zero on a failure.
import { readFileSync } from "node:fs";
import { parquetMetadata, parquetReadObjects } from "hyparquet";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import YAML from "yaml";

const [specPath, planPath, ...parquetFiles] = process.argv.slice(2);
const spec = YAML.parse(readFileSync(specPath, "utf8"));
// The spec's PrimitiveTypeValue is a oneOf of types that overlap (IntegerTypeValue and
// LongTypeValue are both integers; FloatTypeValue and DoubleTypeValue both numbers; the string
// types all strings), so as written no value can match exactly one of them. Validate it as the
// anyOf it means; everything else stays as the spec has it.
const ptv = spec.components.schemas.PrimitiveTypeValue;
ptv.anyOf = ptv.oneOf;
delete ptv.oneOf;
// A partition value may be null (a null identity source, a void transform), for which
// PrimitiveTypeValue has no form; it is written as JSON null, as Iceberg's own serializer does.
spec.components.schemas.ContentFile.properties.partition.items = {
  anyOf: [{ $ref: "#/components/schemas/PrimitiveTypeValue" }, { type: "null" }],
};
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema(spec, "spec");
const validate = ajv.getSchema("spec#/components/schemas/PlanTableScanResult");
const plan = JSON.parse(readFileSync(planPath, "utf8"));
if (!validate(plan)) {
  console.error("FAIL: plan does not match PlanTableScanResult: " +
                JSON.stringify(validate.errors, null, 1));
  process.exit(1);
}

const out = [];
for (const path of parquetFiles) {
  const buf = readFileSync(path);
  const file = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  const meta = parquetMetadata(file);
  const fieldIds = {};
  for (const el of meta.schema.slice(1)) fieldIds[el.name] = el.field_id ?? null;
  const rows = await parquetReadObjects({ file });
  out.push({ path, rows, field_ids: fieldIds });
}
// BigInt values (int64 columns) as numbers or strings for JSON.
console.log(JSON.stringify({ files: out }, (k, v) =>
  typeof v === "bigint" ? (Number.isSafeInteger(Number(v)) ? Number(v) : v.toString()) : v));
