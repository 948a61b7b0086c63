// Plays the part of Iceberg engines other than lakemesh, with libraries that share no code with
// it: hyparquet-writer writes Parquet delete files as a merge-on-read engine does, and icebird
// (its own Avro and Iceberg logic, over hyparquet) reads a whole table, delete files applied,
// through lakemesh's S3 API.
//
// Usage:
//   node other_engine.mjs write-parquet OUT_FILE COLUMNS_JSON
//       COLUMNS_JSON: [{"name", "type": "string"|"long", "field_id", "data": [...]}]
//   node other_engine.mjs read S3_ENDPOINT KEY_ID SECRET TABLE_LOCATION METADATA_FILE_NAME
//       prints {"rows": [...]} as JSON
import { writeFileSync } from "node:fs";
import { parquetWriteBuffer } from "hyparquet-writer";
import { icebergRead } from "icebird";
import { S3Client, GetObjectCommand, HeadObjectCommand } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";

const [command, ...args] = process.argv.slice(2);

function writeParquet(out, columnsJson) {
  const columns = JSON.parse(columnsJson);
  const schema = [{ name: "table", num_children: columns.length }];
  for (const c of columns) {
    const el = { name: c.name, repetition_type: "REQUIRED", field_id: c.field_id };
    if (c.type === "string") Object.assign(el, { type: "BYTE_ARRAY", converted_type: "UTF8" });
    else if (c.type === "long") Object.assign(el, { type: "INT64" });
    else throw new Error(`unsupported column type ${c.type}`);
    schema.push(el);
  }
  const columnData = columns.map(c => ({
    name: c.name,
    data: c.type === "long" ? c.data.map(v => BigInt(v)) : c.data,
  }));
  writeFileSync(out, Buffer.from(parquetWriteBuffer({ columnData, schema })));
}

async function read(endpoint, keyId, secret, tableLocation, metadataFileName) {
  const s3 = new S3Client({
    endpoint: `http://${endpoint}`,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: { accessKeyId: keyId, secretAccessKey: secret },
  });
  // icebird turns s3://bucket/key into https://bucket.s3.amazonaws.com/key; send those to
  // lakemesh instead, as presigned URLs (the Range header icebird adds is not signed).
  const realFetch = globalThis.fetch;
  globalThis.fetch = async (input, init = {}) => {
    const url = new URL(typeof input === "string" ? input : input.url);
    const m = url.hostname.match(/^(.+)\.s3\.amazonaws\.com$/);
    if (!m) return realFetch(input, init);
    const params = { Bucket: m[1], Key: decodeURIComponent(url.pathname.slice(1)) };
    const method = (init.method ?? "GET").toUpperCase();
    const cmd = method === "HEAD" ? new HeadObjectCommand(params) : new GetObjectCommand(params);
    const signed = await getSignedUrl(s3, cmd, { expiresIn: 300 });
    return realFetch(signed, init);
  };
  const rows = await icebergRead({ tableUrl: tableLocation, metadataFileName });
  return rows;
}

if (command === "write-parquet") {
  writeParquet(args[0], args[1]);
} else if (command === "read") {
  const rows = await read(...args);
  console.log(JSON.stringify({ rows }, (k, v) =>
    typeof v === "bigint" ? (Number.isSafeInteger(Number(v)) ? Number(v) : v.toString()) : v));
} else {
  console.error("usage: node other_engine.mjs write-parquet OUT COLUMNS_JSON | read ...");
  process.exit(2);
}
