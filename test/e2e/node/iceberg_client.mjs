// Drives the npm iceberg-js client (1.0.0) through namespaces and tables against lakemesh's
// Iceberg REST catalog, at two branches, and validates every response it received against the
// REST spec's OpenAPI schemas with ajv. Exits non-zero on the first failure and prints a JSON
// summary on success. Usage: node iceberg_client.mjs HTTP_BASE SPEC_YAML
// (HTTP_BASE like http://127.0.0.1:8080; credentials from LAKEMESH_ACCESS_KEY_ID/SECRET).
import { readFileSync } from "node:fs";
import { IcebergRestCatalog, IcebergError } from "iceberg-js";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import YAML from "yaml";

const [base, specPath] = process.argv.slice(2);
const keyId = process.env.LAKEMESH_ACCESS_KEY_ID;
const secret = process.env.LAKEMESH_SECRET_ACCESS_KEY;

function fail(msg) {
  console.error("FAIL: " + msg);
  process.exit(1);
}
function check(cond, msg) {
  if (!cond) fail(msg);
}
// JSON with object keys sorted, so that equality does not depend on key order.
function canon(v) {
  if (Array.isArray(v)) return v.map(canon);
  if (v && typeof v === "object") {
    return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canon(v[k])]));
  }
  return v;
}
function eq(a, b, msg) {
  const x = JSON.stringify(canon(a)), y = JSON.stringify(canon(b));
  if (x !== y) fail(`${msg}: got ${x}, want ${y}`);
}

// --- response validation --------------------------------------------------------------------
const spec = YAML.parse(readFileSync(specPath, "utf8"));
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema(spec, "spec");
const validators = {};
function validator(name) {
  if (!validators[name]) validators[name] = ajv.getSchema(`spec#/components/schemas/${name}`);
  if (!validators[name]) fail(`no schema ${name} in the spec`);
  return validators[name];
}
// Which schema a successful response of each route must match.
const routes = [
  ["GET", /\/v1\/config$/, "CatalogConfig"],
  ["POST", /\/v1\/oauth\/tokens$/, "OAuthTokenResponse"],
  ["GET", /\/v1\/[^/]+\/namespaces$/, "ListNamespacesResponse"],
  ["POST", /\/v1\/[^/]+\/namespaces$/, "CreateNamespaceResponse"],
  ["GET", /\/v1\/[^/]+\/namespaces\/[^/]+$/, "GetNamespaceResponse"],
  ["POST", /\/v1\/[^/]+\/namespaces\/[^/]+\/properties$/, "UpdateNamespacePropertiesResponse"],
  ["GET", /\/v1\/[^/]+\/namespaces\/[^/]+\/tables$/, "ListTablesResponse"],
  ["POST", /\/v1\/[^/]+\/namespaces\/[^/]+\/tables$/, "LoadTableResult"],
  ["POST", /\/v1\/[^/]+\/namespaces\/[^/]+\/register$/, "LoadTableResult"],
  ["GET", /\/v1\/[^/]+\/namespaces\/[^/]+\/tables\/[^/]+$/, "LoadTableResult"],
  ["POST", /\/v1\/[^/]+\/namespaces\/[^/]+\/tables\/[^/]+$/, "CommitTableResponse"],
  ["GET", /\/v1\/[^/]+\/namespaces\/[^/]+\/views$/, "ListTablesResponse"],
  ["POST", /\/v1\/[^/]+\/namespaces\/[^/]+\/views$/, "LoadViewResult"],
  ["GET", /\/v1\/[^/]+\/namespaces\/[^/]+\/views\/[^/]+$/, "LoadViewResult"],
  ["POST", /\/v1\/[^/]+\/namespaces\/[^/]+\/views\/[^/]+$/, "LoadViewResult"],
  ["POST", /\/v1\/[^/]+\/namespaces\/[^/]+\/register-view$/, "LoadViewResult"],
];
let validated = 0;
async function validatingFetch(input, init) {
  const res = await fetch(input, init);
  const method = (init?.method || "GET").toUpperCase();
  const url = new URL(typeof input === "string" ? input : input.url);
  const text = await res.clone().text();
  if (res.status === 204 || res.status === 304 || method === "HEAD") return res;
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    fail(`${method} ${url.pathname}: response is not JSON: ${text.slice(0, 200)}`);
  }
  let schema = null;
  if (res.status >= 400) {
    schema = "IcebergErrorResponse";
  } else {
    for (const [m, re, name] of routes) {
      if (m === method && re.test(url.pathname)) schema = name;
    }
  }
  if (!schema) fail(`${method} ${url.pathname}: no schema to validate ${res.status} against`);
  const v = validator(schema);
  if (!v(body)) {
    fail(`${method} ${url.pathname} (${res.status}) does not match ${schema}: ` +
         JSON.stringify(v.errors.slice(0, 3)) + " in " + text.slice(0, 300));
  }
  validated++;
  return res;
}

async function expectError(promise, status, type, what) {
  try {
    await promise;
  } catch (e) {
    check(e instanceof IcebergError, `${what}: not an IcebergError: ${e}`);
    eq(e.status, status, `${what}: status`);
    eq(e.icebergType, type, `${what}: error type`);
    return;
  }
  fail(`${what}: succeeded, expected ${status} ${type}`);
}

// --- the workflow -----------------------------------------------------------------------------
const tokenRes = await validatingFetch(`${base}/iceberg/v1/oauth/tokens`, {
  method: "POST",
  headers: { "Content-Type": "application/x-www-form-urlencoded" },
  body: new URLSearchParams({ grant_type: "client_credentials", client_id: keyId,
                              client_secret: secret, scope: "PRINCIPAL_ROLE:ALL" }),
});
eq(tokenRes.status, 200, "token request");
const token = (await tokenRes.json()).access_token;
const bad = await fetch(`${base}/iceberg/v1/oauth/tokens`, {
  method: "POST",
  headers: { "Content-Type": "application/x-www-form-urlencoded" },
  body: new URLSearchParams({ grant_type: "client_credentials", client_id: keyId,
                              client_secret: "wrong" }),
});
eq([bad.status, (await bad.json()).error], [401, "invalid_client"], "token with a wrong secret");

const catalogAt = (warehouse, auth = { type: "bearer", token }) =>
  new IcebergRestCatalog({ baseUrl: `${base}/iceberg`, warehouse, auth, fetch: validatingFetch });
const main = catalogAt("main");

const unauth = catalogAt("main", { type: "none" });
await expectError(unauth.listNamespaces(), 401, "NotAuthorizedException", "no credentials");

const config = await main.loadConfig();
eq(config.overrides.prefix, "main", "config prefix");
check(config.defaults["s3.endpoint"].startsWith("http://"), "config has the S3 endpoint");

// Namespaces: the first level is a domain (a repository), deeper levels live in it.
await main.createNamespace({ namespace: ["ice"] }, { properties: { owner: "data-team" } });
await expectError(main.createNamespace({ namespace: ["ice"] }), 409, "AlreadyExistsException",
                  "creating a namespace twice");
check(await main.namespaceExists({ namespace: ["ice"] }), "namespace exists");
check(!(await main.namespaceExists({ namespace: ["nope"] })), "unknown namespace does not exist");
eq((await main.loadNamespaceMetadata({ namespace: ["ice"] })).properties,
   { owner: "data-team" }, "namespace properties");
const upd = await main.updateNamespaceProperties({ namespace: ["ice"] },
                                                 { removals: ["owner", "absent"], updates: { team: "t" } });
eq([upd.updated, upd.removed, upd.missing], [["team"], ["owner"], ["absent"]], "property update");
await main.createNamespace({ namespace: ["ice", "staging"] });
const top = await main.listNamespaces();
check(top.namespaces.some((n) => JSON.stringify(n.namespace) === '["ice"]'), "ice among the domains");
eq((await main.listNamespaces({ parent: { namespace: ["ice"] } })).namespaces,
   [{ namespace: ["ice", "staging"] }], "child namespaces");

// Tables.
const schema = {
  type: "struct", "schema-id": 0,
  fields: [
    { id: 1, name: "id", type: "long", required: true },
    { id: 2, name: "ts", type: "timestamptz", required: false },
    { id: 3, name: "amount", type: "decimal(12, 2)", required: false },
    { id: 4, name: "tags", required: false,
      type: { type: "list", "element-id": 5, element: "string", "element-required": false } },
  ],
};
const created = await main.createTable({ namespace: ["ice"] }, {
  name: "events", schema,
  "partition-spec": { "spec-id": 0, fields: [{ "source-id": 2, "field-id": 1000, name: "ts_day", transform: "day" }] },
  "write-order": { "order-id": 1, fields: [{ "source-id": 1, transform: "identity", direction: "asc", "null-order": "nulls-first" }] },
  properties: { "write.format.default": "parquet" },
});
eq(created["format-version"], 2, "format version");
eq(created["last-column-id"], 5, "last column id");
eq(created["partition-specs"][0].fields[0]["field-id"], 1000, "partition field id");
await expectError(main.createTable({ namespace: ["ice"] }, { name: "events", schema }), 409,
                  "AlreadyExistsException", "creating a table twice");
await expectError(main.createTable({ namespace: ["nope"] }, { name: "t", schema }), 404,
                  "NoSuchNamespaceException", "a table in an unknown namespace");
await main.createTable({ namespace: ["ice", "staging"] }, { name: "raw_events", schema });
eq((await main.listTables({ namespace: ["ice"] })).identifiers,
   [{ namespace: ["ice"], name: "events" }], "tables of ice");
const ev = { namespace: ["ice"], name: "events" };
check(await main.tableExists(ev), "table exists");
check(!(await main.tableExists({ namespace: ["ice"], name: "nope" })), "unknown table");
await expectError(main.loadTable({ namespace: ["ice"], name: "nope" }), 404,
                  "NoSuchTableException", "loading an unknown table");
const loaded = await main.loadTableResult(ev);
check(loaded["metadata-location"].startsWith("s3://ice/_tables/"), "metadata location");
check(loaded.config["s3.endpoint"], "table config has the S3 endpoint");
check(loaded.etag, "load returns an ETag");
eq(await main.loadTable(ev, { ifNoneMatch: loaded.etag }), null, "conditional load");

// An append as engines commit it: a snapshot, main moved to it, guarded by the ref's old state.
const snapshot = (id, seq, parent) => ({
  "snapshot-id": id, "sequence-number": seq, "timestamp-ms": Date.now(),
  "manifest-list": `${created.location}/metadata/snap-${id}.avro`,
  summary: { operation: "append", "added-data-files": "1" }, "schema-id": 0,
  ...(parent ? { "parent-snapshot-id": parent } : {}),
});
const append = (id, seq, parent) => ({
  requirements: [{ type: "assert-ref-snapshot-id", ref: "main", "snapshot-id": parent ?? null }],
  updates: [{ action: "add-snapshot", snapshot: snapshot(id, seq, parent) },
            { action: "set-snapshot-ref", "ref-name": "main", type: "branch", "snapshot-id": id }],
});
const c1 = await main.updateTable(ev, append(1001, 1, null));
eq(c1.metadata["current-snapshot-id"], 1001, "snapshot after the append");
check(c1["metadata-location"] !== loaded["metadata-location"], "a new metadata file");
eq(c1.metadata["metadata-log"][0]["metadata-file"], loaded["metadata-location"], "metadata log");
await expectError(main.updateTable(ev, append(1002, 2, null)), 409, "CommitFailedException",
                  "a commit with a stale requirement");
// Schema evolution by field id.
const evolved = { ...c1.metadata.schemas[0], fields: [...c1.metadata.schemas[0].fields,
  { id: 6, name: "country", type: "string", required: false }] };
const c2 = await main.updateTable(ev, {
  requirements: [{ type: "assert-current-schema-id", "current-schema-id": 0 }],
  updates: [{ action: "add-schema", schema: evolved }, { action: "set-current-schema", "schema-id": -1 }],
});
eq([c2.metadata["current-schema-id"], c2.metadata["last-column-id"]], [1, 6], "schema evolution");

// Branches: the same table at another ref (prefix) is the table on that branch.
const api = (method, path, body) => fetch(`${base}/api/v1${path}`, {
  method, headers: { Authorization: "Basic " + Buffer.from(`${keyId}:${secret}`).toString("base64"),
                     "Content-Type": "application/json" },
  body: body ? JSON.stringify(body) : undefined,
});
eq((await api("POST", "/repositories/ice/branches", { name: "dev", source: "main" })).status, 201,
   "creating branch dev");
const dev = catalogAt("dev");
eq((await dev.loadConfig()).overrides.prefix, "dev", "dev prefix");
const c3 = await dev.updateTable(ev, append(1003, 2, 1001));
eq(c3.metadata["current-snapshot-id"], 1003, "append on dev");
eq((await main.loadTable(ev))["current-snapshot-id"], 1001, "main is untouched by dev");
eq((await dev.loadTable(ev))["current-snapshot-id"], 1003, "dev sees its append");
eq((await api("POST", "/repositories/ice/tags", { name: "v1", ref: "main" })).status, 201,
   "creating tag v1");
const tag = catalogAt("v1");
eq((await tag.loadTable(ev))["current-snapshot-id"], 1001, "reading at a tag");
await expectError(tag.updateTable(ev, append(1004, 3, 1001)), 400, "BadRequestException",
                  "committing at a tag");

// Views (iceberg-js has no view calls: plain requests, validated the same way).
const view = async (method, path, body) => {
  const res = await validatingFetch(`${base}/iceberg/v1/main${path}`, {
    method, headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: res.status === 204 ? null : await res.json() };
};
const version = (sql) => ({
  "version-id": 1, "timestamp-ms": Date.now(), "schema-id": 0, summary: { "engine-name": "test" },
  representations: [{ type: "sql", sql, dialect: "spark" }], "default-namespace": ["ice"],
});
const viewSchema = { type: "struct", "schema-id": 0, fields: [{ id: 1, name: "id", type: "long", required: true }] };
let v = await view("POST", "/namespaces/ice/views", {
  name: "big_events", schema: viewSchema, "view-version": version("SELECT id FROM ice.events WHERE amount > 100"),
  properties: { comment: "large orders" } });
eq(v.status, 200, "create view");
eq(v.body.metadata["current-version-id"], 1, "view version");
eq((await view("POST", "/namespaces/ice/views", { name: "events", schema: viewSchema,
   "view-version": version("SELECT 1"), properties: {} })).status, 409, "a view named like a table");
v = await view("POST", "/namespaces/ice/views/big_events", {
  requirements: [{ type: "assert-view-uuid", uuid: v.body.metadata["view-uuid"] }],
  updates: [{ action: "add-view-version", "view-version": { ...version("SELECT id FROM ice.events WHERE amount > 500"), "version-id": 2 } },
            { action: "set-current-view-version", "view-version-id": -1 }] });
eq([v.status, v.body.metadata["current-version-id"], v.body.metadata.versions.length], [200, 2, 2], "replace view");
eq((await view("GET", "/namespaces/ice/views")).body.identifiers, [{ namespace: ["ice"], name: "big_events" }], "list views");
eq((await view("GET", "/namespaces/ice/views/nope")).body.error.type, "NoSuchViewException", "unknown view");
eq((await view("POST", "/views/rename", { source: { namespace: ["ice"], name: "big_events" },
                                          destination: { namespace: ["ice"], name: "large_events" } })).status, 204, "rename view");
eq((await view("GET", "/namespaces/ice/views/large_events")).body.metadata.versions[1].representations[0].sql,
   "SELECT id FROM ice.events WHERE amount > 500", "renamed view");
const viewLocation = (await view("GET", "/namespaces/ice/views/large_events")).body["metadata-location"];
eq((await view("DELETE", "/namespaces/ice/views/large_events")).status, 204, "drop view");
// registerView adopts the dropped view's metadata file under another name.
v = await view("POST", "/namespaces/ice/register-view",
               { name: "restored_events", "metadata-location": viewLocation });
eq([v.status, v.body["metadata-location"], v.body.metadata["current-version-id"]],
   [200, viewLocation, 2], "register view");
eq((await view("POST", "/namespaces/ice/register-view",
               { name: "events", "metadata-location": viewLocation })).status, 409,
   "register a view named like a table");
eq((await view("DELETE", "/namespaces/ice/views/restored_events")).status, 204, "drop registered view");

// Register, rename, drop.
await main.registerTable({ namespace: ["ice"] },
                         { name: "events_copy", "metadata-location": c2["metadata-location"] });
eq((await main.loadTable({ namespace: ["ice"], name: "events_copy" }))["table-uuid"],
   c2.metadata["table-uuid"], "registered table");
await main.renameTable({ source: { namespace: ["ice"], name: "events_copy" },
                         destination: { namespace: ["ice", "staging"], name: "events_moved" } });
check(await main.tableExists({ namespace: ["ice", "staging"], name: "events_moved" }), "renamed");
await expectError(main.dropNamespace({ namespace: ["ice", "staging"] }), 409,
                  "NamespaceNotEmptyException", "dropping a namespace with tables");
await main.dropTable({ namespace: ["ice", "staging"], name: "events_moved" });
await main.dropTable({ namespace: ["ice", "staging"], name: "raw_events" });
await main.dropNamespace({ namespace: ["ice", "staging"] });
check(!(await main.namespaceExists({ namespace: ["ice", "staging"] })), "namespace dropped");
await main.dropTable(ev);
check(!(await main.tableExists(ev)), "table dropped on main");
check(await dev.tableExists(ev), "still on dev");

console.log(JSON.stringify({ validated }));
