"""The S3 API against real clients: boto3, the AWS CLI, rclone, s3cmd and the AWS SDK for
JavaScript, on plain buckets and on repositories addressed s3://<repo>/<ref>/<path>."""
import datetime
import filecmp
import hashlib
import hmac
import json
import os
import shutil
import socket
import subprocess
import time
import urllib.parse

import boto3
import botocore
import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from conftest import KEY_ID, SECRET, Server

HERE = os.path.dirname(os.path.abspath(__file__))
MiB = 1 << 20


@pytest.fixture(scope="module")
def s3srv(tmp_path_factory):
    d = tmp_path_factory.mktemp("s3")
    s = Server(str(d / "data"), ["--demo"]).start()
    yield s
    s.stop()


def endpoint(srv):
    return "http://" + srv.ports["s3"]


def client(srv, key=KEY_ID, secret=SECRET, **cfg):
    return boto3.client(
        "s3", endpoint_url=endpoint(srv), aws_access_key_id=key, aws_secret_access_key=secret,
        region_name="us-east-1",
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}, **cfg))


def error_code(excinfo):
    return excinfo.value.response["Error"]["Code"]


def make_tree(root):
    """Small and large files, odd names, nested directories. Returns {relative path: bytes}."""
    rnd = __import__("random").Random(7)
    files = {
        "empty.txt": b"",
        "one.txt": b"x",
        "dir/a.csv": b"id,name\n1,alice\n2,bob\n",
        "dir/sub/space name.json": b'{"k": "v"}',
        "dir/sub/unicodé-ü.txt": "héllo wörld".encode(),
        "dir/sub/plus+and&amp.txt": b"plus",
        "medium.bin": bytes(rnd.getrandbits(8) for _ in range(300_000)),
        "large/big.bin": os.urandom(12 * MiB + 12345),
    }
    for rel, data in files.items():
        p = os.path.join(root, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data)
    return files


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "tree"
    root.mkdir()
    return str(root), make_tree(str(root))


# --- boto3 ---------------------------------------------------------------------------------

def test_buckets_lifecycle_and_repositories_listed(s3srv):
    s3 = client(s3srv)
    s3.create_bucket(Bucket="lifecycle-b")
    names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert "lifecycle-b" in names and {"sales", "customers", "marketing"} <= set(names)
    s3.head_bucket(Bucket="lifecycle-b")
    assert s3.get_bucket_location(Bucket="lifecycle-b").get("LocationConstraint") in (None, "")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.create_bucket(Bucket="lifecycle-b")
    assert error_code(e) == "BucketAlreadyOwnedByYou"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.create_bucket(Bucket="sales")  # a repository's name
    assert error_code(e) == "BucketAlreadyOwnedByYou"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.create_bucket(Bucket="Bad_Name")
    assert error_code(e) == "InvalidBucketName"
    s3.put_object(Bucket="lifecycle-b", Key="k", Body=b"v")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.delete_bucket(Bucket="lifecycle-b")
    assert error_code(e) == "BucketNotEmpty"
    s3.delete_object(Bucket="lifecycle-b", Key="k")
    s3.delete_bucket(Bucket="lifecycle-b")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.head_bucket(Bucket="lifecycle-b")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.list_objects_v2(Bucket="no-such-bucket")
    assert error_code(e) == "NoSuchBucket"


def test_objects_metadata_ranges_conditionals(s3srv):
    s3 = client(s3srv)
    s3.create_bucket(Bucket="objects")
    data = os.urandom(100_000)
    put = s3.put_object(Bucket="objects", Key="a/b.bin", Body=data, ContentType="application/x-test",
                        Metadata={"owner": "sales", "Mixed-Case": "v"}, CacheControl="max-age=60",
                        ContentDisposition="attachment; filename=b.bin", ContentEncoding="identity",
                        ContentLanguage="en", Expires=datetime.datetime(2030, 1, 1))
    etag = put["ETag"]
    assert etag == '"%s"' % hashlib.md5(data).hexdigest()
    got = s3.get_object(Bucket="objects", Key="a/b.bin")
    assert got["Body"].read() == data
    assert got["ContentType"] == "application/x-test"
    assert got["Metadata"] == {"owner": "sales", "mixed-case": "v"}
    assert got["CacheControl"] == "max-age=60"
    assert got["ContentDisposition"] == "attachment; filename=b.bin"
    assert got["ContentEncoding"] == "identity"
    assert got["ContentLanguage"] == "en"
    assert got["ETag"] == etag
    head = s3.head_object(Bucket="objects", Key="a/b.bin")
    assert head["ContentLength"] == len(data)

    r = s3.get_object(Bucket="objects", Key="a/b.bin", Range="bytes=10-19")
    assert r["Body"].read() == data[10:20] and r["ContentRange"] == "bytes 10-19/100000"
    assert s3.get_object(Bucket="objects", Key="a/b.bin", Range="bytes=-5")["Body"].read() == data[-5:]
    assert s3.get_object(Bucket="objects", Key="a/b.bin", Range="bytes=99990-")["Body"].read() == data[99990:]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object(Bucket="objects", Key="a/b.bin", Range="bytes=100000-")
    assert error_code(e) == "InvalidRange"

    assert s3.get_object(Bucket="objects", Key="a/b.bin", IfMatch=etag)["Body"].read() == data
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object(Bucket="objects", Key="a/b.bin", IfMatch='"0000"')
    assert error_code(e) == "PreconditionFailed"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object(Bucket="objects", Key="a/b.bin", IfNoneMatch=etag)
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 304
    later = head["LastModified"] + datetime.timedelta(seconds=5)
    earlier = head["LastModified"] - datetime.timedelta(seconds=5)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object(Bucket="objects", Key="a/b.bin", IfModifiedSince=later)
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 304
    assert s3.get_object(Bucket="objects", Key="a/b.bin", IfModifiedSince=earlier)["ContentLength"] == len(data)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object(Bucket="objects", Key="a/b.bin", IfUnmodifiedSince=earlier)
    assert error_code(e) == "PreconditionFailed"

    o = s3.get_object(Bucket="objects", Key="a/b.bin", ResponseContentType="text/plain",
                      ResponseContentDisposition="inline", ResponseCacheControl="no-cache")
    assert (o["ContentType"], o["ContentDisposition"], o["CacheControl"]) == ("text/plain", "inline", "no-cache")

    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object(Bucket="objects", Key="missing")
    assert error_code(e) == "NoSuchKey"
    # Deleting what is not there succeeds, as in S3.
    s3.delete_object(Bucket="objects", Key="missing")
    # Content-MD5 is checked.
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.put_object(Bucket="objects", Key="md5", Body=b"abc", ContentMD5="AAAAAAAAAAAAAAAAAAAAAA==")
    assert error_code(e) == "BadDigest"
    with pytest.raises(botocore.exceptions.ClientError):
        s3.head_object(Bucket="objects", Key="md5")
    # Overwrites replace.
    s3.put_object(Bucket="objects", Key="a/b.bin", Body=b"new")
    assert s3.get_object(Bucket="objects", Key="a/b.bin")["Body"].read() == b"new"
    # Conditional create (this botocore predates IfNoneMatch on PutObject: sign it by hand).
    r = requests.put(endpoint(s3srv) + "/objects/a/b.bin", data=b"x", headers={"If-None-Match": "*"},
                     auth=BotoAuth())
    assert r.status_code == 412 and "<Code>PreconditionFailed</Code>" in r.text
    r = requests.put(endpoint(s3srv) + "/objects/a/fresh.bin", data=b"x", headers={"If-None-Match": "*"},
                     auth=BotoAuth())
    assert r.status_code == 200
    # Additional checksums: sent, verified, returned on request.
    put = s3.put_object(Bucket="objects", Key="sum.bin", Body=data, ChecksumAlgorithm="SHA256")
    want = __import__("base64").b64encode(hashlib.sha256(data).digest()).decode()
    assert put["ChecksumSHA256"] == want
    assert s3.head_object(Bucket="objects", Key="sum.bin", ChecksumMode="ENABLED")["ChecksumSHA256"] == want
    part = s3.get_object(Bucket="objects", Key="sum.bin", Range="bytes=0-9", ChecksumMode="ENABLED")
    assert "ChecksumSHA256" not in part and part["Body"].read() == data[:10]  # a range has no checksum
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.put_object(Bucket="objects", Key="sum2.bin", Body=data, ChecksumCRC32="AAAAAA==")
    assert error_code(e) == "BadDigest"


def test_listing_v1_v2_delimiters_pagination_versions(s3srv):
    s3 = client(s3srv)
    s3.create_bucket(Bucket="listing")
    keys = ["a/1", "a/2", "a/b/3", "b/4", "c", "d e/5", "z%/6"]
    for k in keys:
        s3.put_object(Bucket="listing", Key=k, Body=k.encode())
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket="listing", PaginationConfig={"PageSize": 2})
    assert [o["Key"] for p in pages for o in p.get("Contents", [])] == sorted(keys)
    pages = s3.get_paginator("list_objects").paginate(Bucket="listing", PaginationConfig={"PageSize": 3})
    assert [o["Key"] for p in pages for o in p.get("Contents", [])] == sorted(keys)

    r = s3.list_objects_v2(Bucket="listing", Delimiter="/")
    assert [c["Prefix"] for c in r["CommonPrefixes"]] == ["a/", "b/", "d e/", "z%/"]
    assert [o["Key"] for o in r["Contents"]] == ["c"]
    r = s3.list_objects_v2(Bucket="listing", Prefix="a/", Delimiter="/")
    assert [o["Key"] for o in r["Contents"]] == ["a/1", "a/2"]
    assert [c["Prefix"] for c in r["CommonPrefixes"]] == ["a/b/"]
    # Pages made of common prefixes and keys, with a delimiter.
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket="listing", Delimiter="/",
                                                         PaginationConfig={"PageSize": 1})
    seen = []
    for p in pages:
        seen += [c["Prefix"] for c in p.get("CommonPrefixes", [])] + [o["Key"] for o in p.get("Contents", [])]
    assert sorted(seen) == ["a/", "b/", "c", "d e/", "z%/"]
    r = s3.list_objects_v2(Bucket="listing", StartAfter="b/4")
    assert [o["Key"] for o in r["Contents"]] == ["c", "d e/5", "z%/6"]
    r = s3.list_objects_v2(Bucket="listing", MaxKeys=0)
    assert r["KeyCount"] == 0 and "Contents" not in r
    # encoding-type=url asked for by the caller: keys come back percent-encoded.
    r = s3.list_objects_v2(Bucket="listing", Prefix="d", EncodingType="url")
    assert [o["Key"] for o in r["Contents"]] == ["d%20e/5"]
    raw = requests.get(endpoint(s3srv) + "/listing?list-type=2&prefix=d&encoding-type=url",
                       auth=BotoAuth())
    assert "<Key>d%20e/5</Key>" in raw.text

    v = s3.list_object_versions(Bucket="listing", Prefix="a/")
    assert [(x["Key"], x["VersionId"], x["IsLatest"]) for x in v["Versions"]] == [
        ("a/1", "null", True), ("a/2", "null", True), ("a/b/3", "null", True)]


def test_copy_and_multi_delete(s3srv):
    s3 = client(s3srv)
    s3.create_bucket(Bucket="copies")
    s3.put_object(Bucket="copies", Key="src", Body=b"payload", ContentType="text/x-src", Metadata={"m": "1"})
    r = s3.copy_object(Bucket="copies", Key="dst", CopySource={"Bucket": "copies", "Key": "src"})
    assert r["CopyObjectResult"]["ETag"] == '"%s"' % hashlib.md5(b"payload").hexdigest()
    d = s3.get_object(Bucket="copies", Key="dst")
    assert (d["Body"].read(), d["ContentType"], d["Metadata"]) == (b"payload", "text/x-src", {"m": "1"})
    s3.copy_object(Bucket="copies", Key="dst2", CopySource="copies/src", MetadataDirective="REPLACE",
                   ContentType="text/y", Metadata={"n": "2"})
    d = s3.get_object(Bucket="copies", Key="dst2")
    assert (d["ContentType"], d["Metadata"]) == ("text/y", {"n": "2"})
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.copy_object(Bucket="copies", Key="src", CopySource="copies/src")
    assert error_code(e) == "InvalidRequest"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.copy_object(Bucket="copies", Key="x", CopySource="copies/src", CopySourceIfMatch='"nope"')
    assert error_code(e) == "PreconditionFailed"
    # Copy from a repository into a bucket and back into another branch.
    s3.copy_object(Bucket="copies", Key="orders.csv", CopySource="sales/main/raw/orders/2026-10.csv")
    main_bytes = s3.get_object(Bucket="sales", Key="main/raw/orders/2026-10.csv")["Body"].read()
    assert s3.get_object(Bucket="copies", Key="orders.csv")["Body"].read() == main_bytes
    s3.copy_object(Bucket="sales", Key="dev/copied/orders.csv", CopySource="copies/orders.csv")
    assert s3.get_object(Bucket="sales", Key="dev/copied/orders.csv")["Body"].read() == main_bytes

    r = s3.delete_objects(Bucket="copies", Delete={"Objects": [{"Key": "src"}, {"Key": "dst"}, {"Key": "never"}]})
    assert sorted(x["Key"] for x in r["Deleted"]) == ["dst", "never", "src"]
    r = s3.delete_objects(Bucket="copies", Delete={"Objects": [{"Key": "dst2"}], "Quiet": True})
    assert "Deleted" not in r and "Errors" not in r
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="copies")["Contents"]] == ["orders.csv"]


def test_multipart_uploads(s3srv):
    s3 = client(s3srv)
    s3.create_bucket(Bucket="mpu")
    parts_data = [os.urandom(5 * MiB), os.urandom(5 * MiB + 17), os.urandom(1234)]
    up = s3.create_multipart_upload(Bucket="mpu", Key="big/obj", ContentType="application/x-mp",
                                    Metadata={"kind": "multipart"})
    uid = up["UploadId"]
    etags = []
    for i, d in enumerate(parts_data, 1):
        etags.append(s3.upload_part(Bucket="mpu", Key="big/obj", UploadId=uid, PartNumber=i, Body=d)["ETag"])
    # Re-uploading a part replaces it.
    etags[2] = s3.upload_part(Bucket="mpu", Key="big/obj", UploadId=uid, PartNumber=3, Body=parts_data[2])["ETag"]
    lp = s3.list_parts(Bucket="mpu", Key="big/obj", UploadId=uid)
    assert [(p["PartNumber"], p["Size"]) for p in lp["Parts"]] == [(1, 5 * MiB), (2, 5 * MiB + 17), (3, 1234)]
    lp = s3.list_parts(Bucket="mpu", Key="big/obj", UploadId=uid, MaxParts=2)
    assert lp["IsTruncated"] and lp["NextPartNumberMarker"] == 2
    assert [u["UploadId"] for u in s3.list_multipart_uploads(Bucket="mpu")["Uploads"]] == [uid]

    def complete(parts):
        return s3.complete_multipart_upload(Bucket="mpu", Key="big/obj", UploadId=uid,
                                            MultipartUpload={"Parts": parts})
    with pytest.raises(botocore.exceptions.ClientError) as e:
        complete([{"PartNumber": 2, "ETag": etags[1]}, {"PartNumber": 1, "ETag": etags[0]}])
    assert error_code(e) == "InvalidPartOrder"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        complete([{"PartNumber": 1, "ETag": '"00000000000000000000000000000000"'}])
    assert error_code(e) == "InvalidPart"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        complete([{"PartNumber": 1, "ETag": etags[0]}, {"PartNumber": 4, "ETag": etags[2]}])
    assert error_code(e) == "InvalidPart"
    r = complete([{"PartNumber": i, "ETag": t} for i, t in enumerate(etags, 1)])
    md5s = b"".join(hashlib.md5(d).digest() for d in parts_data)
    assert r["ETag"] == '"%s-3"' % hashlib.md5(md5s).hexdigest()
    o = s3.get_object(Bucket="mpu", Key="big/obj")
    assert o["Body"].read() == b"".join(parts_data)
    assert (o["ContentType"], o["Metadata"], o["ETag"]) == ("application/x-mp", {"kind": "multipart"}, r["ETag"])
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.list_parts(Bucket="mpu", Key="big/obj", UploadId=uid)
    assert error_code(e) == "NoSuchUpload"
    assert "Uploads" not in s3.list_multipart_uploads(Bucket="mpu")

    # EntityTooSmall: a part but the last under 5 MiB.
    uid2 = s3.create_multipart_upload(Bucket="mpu", Key="small")["UploadId"]
    t1 = s3.upload_part(Bucket="mpu", Key="small", UploadId=uid2, PartNumber=1, Body=b"a" * 100)["ETag"]
    t2 = s3.upload_part(Bucket="mpu", Key="small", UploadId=uid2, PartNumber=2, Body=b"b")["ETag"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.complete_multipart_upload(Bucket="mpu", Key="small", UploadId=uid2, MultipartUpload={
            "Parts": [{"PartNumber": 1, "ETag": t1}, {"PartNumber": 2, "ETag": t2}]})
    assert error_code(e) == "EntityTooSmall"
    s3.abort_multipart_upload(Bucket="mpu", Key="small", UploadId=uid2)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.upload_part(Bucket="mpu", Key="small", UploadId=uid2, PartNumber=3, Body=b"c")
    assert error_code(e) == "NoSuchUpload"
    with pytest.raises(botocore.exceptions.ClientError):
        s3.head_object(Bucket="mpu", Key="small")

    # UploadPartCopy from a range of another object, into a repository branch.
    uid3 = s3.create_multipart_upload(Bucket="sales", Key="dev/assembled.bin")["UploadId"]
    c1 = s3.upload_part_copy(Bucket="sales", Key="dev/assembled.bin", UploadId=uid3, PartNumber=1,
                             CopySource="mpu/big/obj", CopySourceRange="bytes=0-%d" % (5 * MiB - 1))
    c2 = s3.upload_part_copy(Bucket="sales", Key="dev/assembled.bin", UploadId=uid3, PartNumber=2,
                             CopySource="mpu/big/obj", CopySourceRange="bytes=%d-%d" % (10 * MiB + 17, 10 * MiB + 17 + 99))
    s3.complete_multipart_upload(Bucket="sales", Key="dev/assembled.bin", UploadId=uid3, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": c1["CopyPartResult"]["ETag"]},
                  {"PartNumber": 2, "ETag": c2["CopyPartResult"]["ETag"]}]})
    got = s3.get_object(Bucket="sales", Key="dev/assembled.bin")["Body"].read()
    assert got == parts_data[0] + parts_data[2][:100]


def test_presigned_urls(s3srv):
    # This botocore presigns with Signature Version 2 unless told otherwise; that is refused.
    v2 = client(s3srv).generate_presigned_url("get_object", Params={"Bucket": "sales", "Key": "main/x"})
    r = requests.get(v2)
    assert r.status_code == 400 and "Signature Version 2" in r.text
    s3 = client(s3srv, signature_version="s3v4")
    s3.create_bucket(Bucket="presign")
    put_url = s3.generate_presigned_url("put_object", Params={"Bucket": "presign", "Key": "p/x.txt"}, ExpiresIn=60)
    assert requests.put(put_url, data=b"presigned body").status_code == 200
    get_url = s3.generate_presigned_url("get_object", Params={"Bucket": "presign", "Key": "p/x.txt"}, ExpiresIn=60)
    r = requests.get(get_url)
    assert (r.status_code, r.content) == (200, b"presigned body")
    # Tampering with the URL breaks the signature.
    r = requests.get(get_url.replace("p/x.txt", "p/y.txt"))
    assert r.status_code == 403 and "<Code>SignatureDoesNotMatch</Code>" in r.text
    # An expired URL is refused.
    old = s3.generate_presigned_url("get_object", Params={"Bucket": "presign", "Key": "p/x.txt"}, ExpiresIn=1)
    time.sleep(2.1)
    r = requests.get(old)
    assert r.status_code == 403 and "expired" in r.text
    # Presigned URLs for repository objects too.
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "sales", "Key": "v1/raw/products.json"})
    assert requests.get(url).status_code == 200


class BotoAuth(requests.auth.AuthBase):
    """Signs a requests call with SigV4 the way botocore does."""

    def __init__(self, key=KEY_ID, secret=SECRET, payload="UNSIGNED-PAYLOAD", date=None):
        self.creds = Credentials(key, secret)
        self.payload = payload
        self.date = date  # replaces X-Amz-Date after signing

    def __call__(self, r):
        aws = AWSRequest(method=r.method, url=r.url, data=r.body or b"",
                         headers={"x-amz-content-sha256": self.payload})
        SigV4Auth(self.creds, "s3", "us-east-1").add_auth(aws)
        for k, v in aws.headers.items():
            r.headers[k] = v
        if self.date:
            r.headers["X-Amz-Date"] = self.date
        return r


def test_authentication_errors(s3srv):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client(s3srv, secret="wrong-secret-0123456789abcdefghijklmnop").list_buckets()
    assert error_code(e) == "SignatureDoesNotMatch"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client(s3srv, key="LMNOSUCHKEY000000000").list_buckets()
    assert error_code(e) == "InvalidAccessKeyId"
    r = requests.get(endpoint(s3srv) + "/")
    assert r.status_code == 403 and "<Code>AccessDenied</Code>" in r.text and "<RequestId>" in r.text
    assert r.headers["x-amz-request-id"]
    r = requests.get(endpoint(s3srv) + "/", headers={"Authorization": "AWS %s:c2lnbmF0dXJl" % KEY_ID})
    assert r.status_code == 400 and "Signature Version 2" in r.text
    # 30 minutes off, on the same UTC day as the signature's scope (which is today's date).
    now = datetime.datetime.now(datetime.timezone.utc)
    off = datetime.timedelta(minutes=30)
    skewed = now - off if (now - off).date() == now.date() else now + off
    r = requests.get(endpoint(s3srv) + "/", auth=BotoAuth(date=skewed.strftime("%Y%m%dT%H%M%SZ")))
    assert r.status_code == 403 and "<Code>RequestTimeTooSkewed</Code>" in r.text, r.text
    # A signed payload hash that the body does not match.
    r = requests.put(endpoint(s3srv) + "/sales/dev/hash.txt", data=b"actual body",
                     auth=BotoAuth(payload=hashlib.sha256(b"other body").hexdigest()))
    assert r.status_code == 400 and "XAmzContentSHA256Mismatch" in r.text
    assert client(s3srv).list_objects_v2(Bucket="sales", Prefix="dev/hash").get("KeyCount") == 0
    # The same request with the right hash works.
    r = requests.put(endpoint(s3srv) + "/sales/dev/hash.txt", data=b"actual body",
                     auth=BotoAuth(payload=hashlib.sha256(b"actual body").hexdigest()))
    assert r.status_code == 200, r.text


def sign_chunked_put(srv, path, chunks, trailer=None, tamper=None):
    """A STREAMING-AWS4-HMAC-SHA256-PAYLOAD(-TRAILER) upload, signed chunk by chunk as the AWS
    documentation describes (an independent implementation of what the server verifies)."""
    now = datetime.datetime.now(datetime.timezone.utc)
    amz_date, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    scope = "%s/us-east-1/s3/aws4_request" % day
    mode = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD" + ("-TRAILER" if trailer else "")
    decoded = sum(len(c) for c in chunks)
    host = srv.ports["s3"]
    headers = {"host": host, "x-amz-date": amz_date, "x-amz-content-sha256": mode,
               "x-amz-decoded-content-length": str(decoded), "content-encoding": "aws-chunked"}
    if trailer:
        headers["x-amz-trailer"] = trailer[0]
    signed = sorted(headers)
    canonical = "\n".join(["PUT", urllib.parse.quote(path), ""] +
                          ["%s:%s" % (h, headers[h]) for h in signed] + ["", ";".join(signed), mode])
    def h(key, msg):
        return hmac.new(key, msg.encode(), hashlib.sha256).digest()
    key = h(h(h(h(("AWS4" + SECRET).encode(), day), "us-east-1"), "s3"), "aws4_request")
    sts = "AWS4-HMAC-SHA256\n%s\n%s\n%s" % (amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest())
    seed = hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()
    body, prev = b"", seed
    empty = hashlib.sha256(b"").hexdigest()
    for data in list(chunks) + [b""]:
        s = "AWS4-HMAC-SHA256-PAYLOAD\n%s\n%s\n%s\n%s\n%s" % (amz_date, scope, prev, empty,
                                                             hashlib.sha256(data).hexdigest())
        prev = hmac.new(key, s.encode(), hashlib.sha256).hexdigest()
        sig = prev if not (tamper and data == b"") else "0" * 64
        body += b"%x;chunk-signature=%s\r\n" % (len(data), sig.encode()) + data + (b"\r\n" if data else b"")
    if trailer:
        line = "%s:%s\n" % trailer
        s = "AWS4-HMAC-SHA256-TRAILER\n%s\n%s\n%s\n%s" % (amz_date, scope, prev, hashlib.sha256(line.encode()).hexdigest())
        tsig = hmac.new(key, s.encode(), hashlib.sha256).hexdigest()
        body += ("%s:%s\r\nx-amz-trailer-signature:%s\r\n\r\n" % (trailer[0], trailer[1], tsig)).encode()
    else:
        body += b"\r\n"
    headers["Authorization"] = "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s" % (
        KEY_ID, scope, ";".join(signed), seed)
    del headers["host"]
    return requests.put("http://%s%s" % (host, path), data=body, headers=headers)


def test_streaming_signed_chunked_uploads(s3srv):
    import base64
    import zlib
    s3 = client(s3srv)
    s3.create_bucket(Bucket="chunked")
    chunks = [os.urandom(65536), os.urandom(65536), os.urandom(1000)]
    r = sign_chunked_put(s3srv, "/chunked/c.bin", chunks)
    assert r.status_code == 200, r.text
    assert s3.get_object(Bucket="chunked", Key="c.bin")["Body"].read() == b"".join(chunks)
    assert "ContentEncoding" not in s3.head_object(Bucket="chunked", Key="c.bin")
    # A bad final chunk signature stores nothing.
    r = sign_chunked_put(s3srv, "/chunked/bad.bin", chunks, tamper=True)
    assert r.status_code == 403 and "SignatureDoesNotMatch" in r.text
    with pytest.raises(botocore.exceptions.ClientError):
        s3.head_object(Bucket="chunked", Key="bad.bin")
    # With a signed CRC32 trailer, right and wrong.
    crc = base64.b64encode(zlib.crc32(b"".join(chunks)).to_bytes(4, "big")).decode()
    r = sign_chunked_put(s3srv, "/chunked/t.bin", chunks, trailer=("x-amz-checksum-crc32", crc))
    assert r.status_code == 200, r.text
    assert r.headers["x-amz-checksum-crc32"] == crc
    r = sign_chunked_put(s3srv, "/chunked/t2.bin", chunks, trailer=("x-amz-checksum-crc32", "AAAAAA=="))
    assert r.status_code == 400 and "BadDigest" in r.text


def test_interrupted_upload_leaves_nothing(s3srv):
    s3 = client(s3srv)
    s3.create_bucket(Bucket="interrupted")
    req = AWSRequest(method="PUT", url=endpoint(s3srv) + "/interrupted/partial.bin",
                     headers={"x-amz-content-sha256": "UNSIGNED-PAYLOAD", "Content-Length": str(10 * MiB)})
    SigV4Auth(Credentials(KEY_ID, SECRET), "s3", "us-east-1").add_auth(req)
    host, port = s3srv.ports["s3"].split(":")
    with socket.create_connection((host, int(port))) as sock:
        head = "PUT /interrupted/partial.bin HTTP/1.1\r\nHost: %s\r\n" % s3srv.ports["s3"]
        head += "".join("%s: %s\r\n" % (k, v) for k, v in req.headers.items()) + "\r\n"
        sock.sendall(head.encode() + os.urandom(MiB))
    time.sleep(0.3)
    assert s3.list_objects_v2(Bucket="interrupted")["KeyCount"] == 0


def test_repositories_as_buckets(s3srv):
    s3 = client(s3srv)
    listed = s3.list_objects_v2(Bucket="sales", Delimiter="/")
    assert {"dev/", "main/"} <= {c["Prefix"] for c in listed["CommonPrefixes"]}
    main = s3.list_objects_v2(Bucket="sales", Prefix="main/raw/", Delimiter="/")
    assert "main/raw/orders/" in [c["Prefix"] for c in main["CommonPrefixes"]]
    # Reads at a tag and at a commit expression; writes only on branches.
    assert s3.get_object(Bucket="sales", Key="v1/raw/products.json")["Body"].read()
    assert s3.get_object(Bucket="sales", Key="main~1/raw/products.json")["Body"].read()
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.put_object(Bucket="sales", Key="v1/x.txt", Body=b"x")
    assert error_code(e) == "AccessDenied" and "read-only" in e.value.response["Error"]["Message"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.put_object(Bucket="sales", Key="no-such-branch/x.txt", Body=b"x")
    assert error_code(e) == "NoSuchBucket"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object(Bucket="sales", Key="no-such-ref/raw/products.json")
    assert error_code(e) == "NoSuchKey"
    # A write on a branch is staged: visible there at once, committed with the API.
    s3.create_bucket(Bucket="scratch-for-repo-test")
    s3.put_object(Bucket="sales", Key="dev/staged/new.csv", Body=b"a,b\n")
    assert s3.get_object(Bucket="sales", Key="dev/staged/new.csv")["Body"].read() == b"a,b\n"
    with pytest.raises(botocore.exceptions.ClientError):
        s3.head_object(Bucket="sales", Key="main/staged/new.csv")
    changes = s3srv.api("GET", "/api/v1/repositories/sales/branches/dev/changes").json()
    assert "staged/new.csv" in [c["path"] for c in changes["results"]]
    c = s3srv.api("POST", "/api/v1/repositories/sales/branches/dev/commits", json={"message": "via s3"})
    assert c.status_code == 201, c.text
    commit = c.json()["id"]
    assert s3.get_object(Bucket="sales", Key=commit + "/staged/new.csv")["Body"].read() == b"a,b\n"
    s3.delete_object(Bucket="sales", Key="dev/staged/new.csv")
    with pytest.raises(botocore.exceptions.ClientError):
        s3.head_object(Bucket="sales", Key="dev/staged/new.csv")
    assert s3.get_object(Bucket="sales", Key=commit + "/staged/new.csv")["Body"].read() == b"a,b\n"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.delete_bucket(Bucket="sales")
    assert error_code(e) == "BucketNotEmpty"


# --- other real clients ---------------------------------------------------------------------

def client_env():
    env = dict(os.environ)
    env.update({"AWS_ACCESS_KEY_ID": KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET,
                "AWS_DEFAULT_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true"})
    env.pop("AWS_CA_BUNDLE", None)
    env.pop("AWS_PROFILE", None)
    return env


def run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, env=client_env(), timeout=300, **kw)
    assert r.returncode == 0, "%s failed (%d):\n%s\n%s" % (cmd[0], r.returncode, r.stdout, r.stderr)
    return r


def assert_same_tree(a, b):
    cmp = filecmp.dircmp(a, b)
    def check(c):
        assert not c.left_only and not c.right_only and not c.diff_files, (c.left_only, c.right_only, c.diff_files)
        _, mismatch, errors = filecmp.cmpfiles(c.left, c.right, c.common_files, shallow=False)
        assert not mismatch and not errors
        for sub in c.subdirs.values():
            check(sub)
    check(cmp)


@pytest.mark.parametrize("bucket,prefix", [("awscli-b", ""), ("sales", "dev/awscli/")])
def test_aws_cli(s3srv, tree, tmp_path, bucket, prefix):
    aws = ["/usr/bin/aws", "--endpoint-url", endpoint(s3srv)]
    quiet = ["--only-show-errors"]
    src, files = tree
    if bucket != "sales":
        run(aws + ["s3", "mb", "s3://" + bucket])
    dest = "s3://%s/%s" % (bucket, prefix)
    run(aws + ["s3", "cp", "--recursive", src, dest + "tree/"] + quiet)  # 12 MiB: multipart
    out = tmp_path / "back"
    run(aws + ["s3", "cp", "--recursive", dest + "tree/", str(out)] + quiet)
    assert_same_tree(src, str(out))
    # sync uploads only what changed, then nothing.
    with open(os.path.join(src, "one.txt"), "wb") as f:
        f.write(b"changed")
    r = run(aws + ["s3", "sync", "--no-progress", src, dest + "tree/"])
    assert "one.txt" in r.stdout and "big.bin" not in r.stdout
    r = run(aws + ["s3", "sync", "--no-progress", src, dest + "tree/"])
    assert r.stdout.strip() == ""
    ls = run(aws + ["s3", "ls", "--recursive", dest + "tree/"]).stdout
    assert "dir/sub/unicodé-ü.txt" in ls and "space name.json" in ls
    # s3api: ranged get, head, presign.
    key = prefix + "tree/large/big.bin"
    rng = tmp_path / "range.bin"
    run(aws + ["s3api", "get-object", "--bucket", bucket, "--key", key, "--range", "bytes=100-199", str(rng)])
    assert rng.read_bytes() == files["large/big.bin"][100:200]
    head = json.loads(run(aws + ["s3api", "head-object", "--bucket", bucket, "--key", key]).stdout)
    assert head["ContentLength"] == len(files["large/big.bin"]) and head["ETag"].endswith('-2"')
    url = run(aws + ["s3", "presign", dest + "tree/dir/a.csv", "--expires-in", "60"]).stdout.strip()
    assert requests.get(url).content == files["dir/a.csv"]
    run(aws + ["s3", "rm", "--recursive", dest + "tree/"] + quiet)
    listing = json.loads(run(aws + ["s3api", "list-objects-v2", "--bucket", bucket, "--prefix",
                                    prefix + "tree/"]).stdout or "{}")
    assert listing.get("KeyCount", 0) == 0


def test_rclone_sync_and_check(s3srv, tree, tmp_path):
    if not shutil.which("rclone"):
        pytest.fail("rclone is not installed (scripts/install-deps.sh installs it)")
    conf = tmp_path / "rclone.conf"
    conf.write_text("[lm]\ntype = s3\nprovider = Other\naccess_key_id = %s\nsecret_access_key = %s\n"
                    "endpoint = %s\nregion = us-east-1\nforce_path_style = true\n" % (KEY_ID, SECRET, endpoint(s3srv)))
    rc = ["rclone", "--config", str(conf), "--s3-upload-cutoff", "5M", "--s3-chunk-size", "5M"]
    src, _ = tree
    run(rc + ["mkdir", "lm:rclone-b"])
    for dest in ("lm:rclone-b/tree", "lm:sales/dev/rclone/tree"):
        run(rc + ["sync", src, dest])
        run(rc + ["check", src, dest, "--download"])  # compares every byte
        out = tmp_path / dest.replace(":", "_").replace("/", "_")
        run(rc + ["copy", dest, str(out)])
        assert_same_tree(src, str(out))
        os.unlink(os.path.join(src, "one.txt"))
        run(rc + ["sync", src, dest])
        run(rc + ["check", src, dest])
        with open(os.path.join(src, "one.txt"), "wb") as f:
            f.write(b"x")


def test_s3cmd(s3srv, tree, tmp_path):
    host = s3srv.ports["s3"]
    cfg = tmp_path / "s3cfg"
    cfg.write_text("[default]\naccess_key = %s\nsecret_key = %s\nhost_base = %s\nhost_bucket = %s\n"
                   "use_https = False\nsignature_v2 = False\nbucket_location = us-east-1\n"
                   "multipart_chunk_size_mb = 5\n" % (KEY_ID, SECRET, host, host))
    s3cmd = ["s3cmd", "-c", str(cfg), "--no-progress"]
    src, _ = tree
    run(s3cmd + ["mb", "s3://s3cmd-b"])
    run(s3cmd + ["sync", src + "/", "s3://s3cmd-b/tree/"])
    out = tmp_path / "back"
    out.mkdir()
    run(s3cmd + ["sync", "s3://s3cmd-b/tree/", str(out) + "/"])
    assert_same_tree(src, str(out))
    ls = run(s3cmd + ["ls", "--recursive", "s3://s3cmd-b/"]).stdout
    assert "s3://s3cmd-b/tree/large/big.bin" in ls
    run(s3cmd + ["put", os.path.join(src, "dir/a.csv"), "s3://sales/dev/s3cmd/a.csv"])
    got = tmp_path / "a.csv"
    run(s3cmd + ["get", "s3://sales/dev/s3cmd/a.csv", str(got)])
    assert got.read_bytes() == open(os.path.join(src, "dir/a.csv"), "rb").read()
    run(s3cmd + ["del", "--recursive", "--force", "s3://s3cmd-b/"])
    run(s3cmd + ["rb", "s3://s3cmd-b"])


@pytest.mark.parametrize("bucket,prefix", [("node-b", "tree/"), ("sales", "dev/node/")])
def test_aws_sdk_for_javascript(s3srv, tree, bucket, prefix):
    node_dir = os.path.join(HERE, "node")
    if not os.path.isdir(os.path.join(node_dir, "node_modules", "@aws-sdk", "client-s3")):
        pytest.fail("test/e2e/node has no node_modules (scripts/install-deps.sh installs them)")
    if bucket != "sales":
        client(s3srv).create_bucket(Bucket=bucket)
    src, files = tree
    r = run(["node", os.path.join(node_dir, "s3_client.mjs"), endpoint(s3srv), bucket, prefix, src])
    summary = json.loads(r.stdout.strip().splitlines()[-1])
    assert summary == {"files": len(files), "bytes": sum(len(v) for v in files.values())}


def test_abandoned_multipart_uploads_are_collected(s3srv):
    s3 = client(s3srv)
    s3.create_bucket(Bucket="abandoned")
    uid = s3.create_multipart_upload(Bucket="abandoned", Key="never-finished")["UploadId"]
    s3.upload_part(Bucket="abandoned", Key="never-finished", UploadId=uid, PartNumber=1, Body=b"x" * 1000)
    r = s3srv.api("POST", "/api/v1/gc", json={"abandoned_upload_seconds": 3600})
    assert r.status_code == 200 and r.json()["uploads_aborted"] == 0
    assert [u["UploadId"] for u in s3.list_multipart_uploads(Bucket="abandoned")["Uploads"]] == [uid]
    r = s3srv.api("POST", "/api/v1/gc", json={"abandoned_upload_seconds": 0})
    assert r.status_code == 200 and r.json()["uploads_aborted"] >= 1
    assert "Uploads" not in s3.list_multipart_uploads(Bucket="abandoned")
    parts_dir = os.path.join(s3srv.data_dir, "blobs", "mpu", uid)
    assert not os.path.exists(parts_dir) or not os.listdir(parts_dir)


def test_virtual_host_style(workdir):
    srv = Server(os.path.join(workdir, "data"), ["--s3-domain", "s3.lakemesh.test"]).start()
    try:
        client(srv).create_bucket(Bucket="vhost")
        port = srv.ports["s3"].rsplit(":", 1)[1]

        def call(method, bucket, path, data=b""):
            url = "http://%s.s3.lakemesh.test:%s%s" % (bucket, port, path)
            aws = AWSRequest(method=method, url=url, data=data,
                             headers={"x-amz-content-sha256": hashlib.sha256(data).hexdigest()})
            SigV4Auth(Credentials(KEY_ID, SECRET), "s3", "us-east-1").add_auth(aws)
            headers = dict(aws.headers.items())
            headers["Host"] = "%s.s3.lakemesh.test:%s" % (bucket, port)
            return requests.request(method, "http://127.0.0.1:%s%s" % (port, path), data=data,
                                    headers=headers)
        assert call("PUT", "vhost", "/dir/file.txt", b"virtual").status_code == 200
        assert call("GET", "vhost", "/dir/file.txt").content == b"virtual"
        listing = call("GET", "vhost", "/?list-type=2")
        assert "<Key>dir/file.txt</Key>" in listing.text
        # Path style keeps working beside it.
        assert client(srv).get_object(Bucket="vhost", Key="dir/file.txt")["Body"].read() == b"virtual"
    finally:
        srv.stop()
