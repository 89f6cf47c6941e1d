#!/usr/bin/env python3
"""Builds an image with hand-made (possibly hostile) layers into an OCI
layout, for the ht-unpack tests. Reads a JSON spec on stdin:

  {"store": "st", "tag": "t",
   "layers": [{"compression": "gzip" | "none" | "zstd",
               "entries": [{"name": "a/b", "type": "file" | "dir" | "symlink"
                            | "hardlink" | "char" | "fifo",
                            "data": "text", "zeros": N, "mode": 420,
                            "link": "target", "pax": {"KEY": "VALUE"}}]}],
   "bad_diff_id": 0}             (index of a layer whose diff_id is wrong)

and prints the manifest digest. Entries go in the order given. "pax" adds
extended header records to an entry as they are: with GNU.sparse.size and
GNU.sparse.map (the GNU 0.1 sparse format) the data is a sparse file's
stored parts, so a few bytes can claim a huge file.
"""
import gzip
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile

TYPES = {"file": tarfile.REGTYPE, "dir": tarfile.DIRTYPE, "symlink": tarfile.SYMTYPE,
         "hardlink": tarfile.LNKTYPE, "char": tarfile.CHRTYPE, "fifo": tarfile.FIFOTYPE}


class Zeros(io.RawIOBase):
    def __init__(self, n):
        self.left = n

    def read(self, n=-1):
        n = self.left if n < 0 else min(n, self.left)
        self.left -= n
        return b"\0" * n


def tar_bytes(entries):
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as t:
        for e in entries:
            ti = tarfile.TarInfo(e["name"])
            ti.type = TYPES[e.get("type", "file")]
            ti.mode = e.get("mode", 0o755 if ti.type == tarfile.DIRTYPE else 0o644)
            ti.mtime = 0
            ti.linkname = e.get("link", "")
            ti.pax_headers = dict(e.get("pax", {}))
            if ti.type == tarfile.CHRTYPE:
                ti.devmajor, ti.devminor = 1, 3
            src = None
            if ti.type == tarfile.REGTYPE:
                if "zeros" in e:
                    ti.size = e["zeros"]
                    src = Zeros(e["zeros"])
                else:
                    data = e.get("data", "").encode()
                    ti.size = len(data)
                    src = io.BytesIO(data)
            t.addfile(ti, src)
    return out.getvalue()


def put_blob(store, data):
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    path = os.path.join(store, "blobs", "sha256", digest[7:])
    with open(path, "wb") as f:
        f.write(data)
    return digest


def main():
    spec = json.load(sys.stdin)
    store = spec["store"]
    os.makedirs(os.path.join(store, "blobs", "sha256"), exist_ok=True)
    with open(os.path.join(store, "oci-layout"), "w") as f:
        f.write('{"imageLayoutVersion":"1.0.0"}')
    layers, diff_ids = [], []
    for i, layer in enumerate(spec["layers"]):
        raw = tar_bytes(layer["entries"])
        diff = "sha256:" + hashlib.sha256(raw).hexdigest()
        if spec.get("bad_diff_id") == i:
            diff = "sha256:" + hashlib.sha256(b"not this").hexdigest()
        comp = layer.get("compression", "gzip")
        if comp == "gzip":
            blob = gzip.compress(raw, compresslevel=1, mtime=0)
            mt = "application/vnd.oci.image.layer.v1.tar+gzip"
        elif comp == "zstd":
            blob = subprocess.run(["zstd", "-q", "-c"], input=raw, stdout=subprocess.PIPE,
                                  check=True).stdout
            mt = "application/vnd.oci.image.layer.v1.tar+zstd"
        else:
            blob = raw
            mt = "application/vnd.oci.image.layer.v1.tar"
        layers.append({"mediaType": mt, "digest": put_blob(store, blob), "size": len(blob)})
        diff_ids.append(diff)
    config = {"architecture": spec.get("architecture", "amd64"), "os": "linux",
              "config": {"Entrypoint": ["/bin/true"], "Env": ["PATH=/bin"], "WorkingDir": "/w"},
              "rootfs": {"type": "layers", "diff_ids": diff_ids}}
    cbytes = json.dumps(config, sort_keys=True, separators=(",", ":")).encode()
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                           "digest": put_blob(store, cbytes), "size": len(cbytes)},
                "layers": layers}
    mbytes = json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode()
    mdigest = put_blob(store, mbytes)
    ipath = os.path.join(store, "index.json")
    try:
        with open(ipath) as f:
            index = json.load(f)
    except FileNotFoundError:
        index = {"schemaVersion": 2, "manifests": []}
    tag = spec.get("tag", "latest")
    index["manifests"] = [m for m in index["manifests"]
                          if m.get("annotations", {}).get("org.opencontainers.image.ref.name") != tag]
    index["manifests"].append({"mediaType": manifest["mediaType"], "digest": mdigest,
                               "size": len(mbytes),
                               "annotations": {"org.opencontainers.image.ref.name": tag}})
    with open(ipath + ".tmp", "w") as f:
        json.dump(index, f)
    os.rename(ipath + ".tmp", ipath)
    print(mdigest)


main()
