// Drives @aws-sdk/client-s3 (AWS SDK for JavaScript v3) against a lakemesh S3 endpoint: uploads a
// directory tree (small files with PutObject, large ones as multipart uploads), lists it back with
// pagination, downloads every object and compares every byte, checks a presigned GET and the
// SDK's own response checksum validation, then deletes everything. Exits non-zero on any
// mismatch. Usage: node s3_client.mjs ENDPOINT BUCKET PREFIX DIR
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import {
  S3Client, PutObjectCommand, GetObjectCommand, ListObjectsV2Command, DeleteObjectsCommand,
  CreateMultipartUploadCommand, UploadPartCommand, CompleteMultipartUploadCommand, HeadObjectCommand,
} from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";

const [endpoint, bucket, prefix, dir] = process.argv.slice(2);
const s3 = new S3Client({
  endpoint, region: "us-east-1", forcePathStyle: true,
  credentials: { accessKeyId: process.env.AWS_ACCESS_KEY_ID, secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY },
});

function walk(d) {
  return readdirSync(d).flatMap((n) => {
    const p = join(d, n);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

function fail(msg) {
  console.error("FAIL: " + msg);
  process.exit(1);
}

const files = walk(dir).sort();
const PART = 5 * 1024 * 1024;
for (const f of files) {
  const key = prefix + relative(dir, f);
  const body = readFileSync(f);
  if (body.length <= PART) {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, Metadata: { origin: "node" } }));
    continue;
  }
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
  const parts = [];
  for (let off = 0, n = 1; off < body.length; off += PART, n++) {
    const r = await s3.send(new UploadPartCommand({
      Bucket: bucket, Key: key, UploadId, PartNumber: n, Body: body.subarray(off, off + PART),
    }));
    parts.push({ PartNumber: n, ETag: r.ETag });
  }
  const done = await s3.send(new CompleteMultipartUploadCommand({
    Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts: parts },
  }));
  if (!done.ETag.endsWith(`-${parts.length}"`)) fail(`multipart ETag ${done.ETag}`);
}

// List with a small page size so pagination is exercised.
const listed = [];
let token;
do {
  const r = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, MaxKeys: 3, ContinuationToken: token }));
  for (const c of r.Contents ?? []) listed.push(c.Key);
  token = r.IsTruncated ? r.NextContinuationToken : undefined;
} while (token);
const want = files.map((f) => prefix + relative(dir, f)).sort();
if (JSON.stringify(listed) !== JSON.stringify(want)) fail(`listing ${JSON.stringify(listed)} != ${JSON.stringify(want)}`);

let bytes = 0;
for (const f of files) {
  const key = prefix + relative(dir, f);
  const g = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: "ENABLED" }));
  const got = Buffer.from(await g.Body.transformToByteArray());
  if (!got.equals(readFileSync(f))) fail(`bytes of ${key} differ`);
  bytes += got.length;
}
const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: want[0] }));
if (head.ContentLength !== readFileSync(files[0]).length) fail("HeadObject length");

const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: want[0] }), { expiresIn: 60 });
const res = await fetch(url);
if (res.status !== 200 || !Buffer.from(await res.arrayBuffer()).equals(readFileSync(files[0]))) {
  fail(`presigned GET: ${res.status}`);
}

const del = await s3.send(new DeleteObjectsCommand({
  Bucket: bucket, Delete: { Objects: want.map((Key) => ({ Key })), Quiet: true },
}));
if ((del.Errors ?? []).length) fail(`delete errors ${JSON.stringify(del.Errors)}`);
console.log(JSON.stringify({ files: files.length, bytes }));
