"""Test certificates made at test time with the `openssl` CLI: a root CA, an
intermediate CA and leaf certificates with chosen validity windows and
names. Used by the TLS and credential integration tests."""

import os
import subprocess


def _run(args, cwd):
    subprocess.run(["openssl"] + args, cwd=cwd, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


class Pki:
    """A root CA and an intermediate CA in `workdir`; leaves issued by the
    intermediate through `openssl ca` (which can set any start/end date)."""

    def __init__(self, workdir):
        self.dir = os.path.join(workdir, "pki")
        os.makedirs(self.dir, exist_ok=True)
        d = self.dir
        with open(os.path.join(d, "index.txt"), "w"):
            pass
        with open(os.path.join(d, "serial"), "w") as f:
            f.write("1000\n")
        with open(os.path.join(d, "ca.cnf"), "w") as f:
            f.write(f"""
[ca]
default_ca = inter
[inter]
dir = {d}
database = {d}/index.txt
serial = {d}/serial
new_certs_dir = {d}
certificate = {d}/inter.pem
private_key = {d}/inter.key
default_md = sha256
policy = anything
unique_subject = no
copy_extensions = none
[anything]
commonName = supplied
[v3_ca]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
""")
        _run(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
              "-keyout", "root.key", "-out", "root.pem", "-days", "3650",
              "-subj", "/CN=calprobe test root CA",
              "-addext", "basicConstraints=critical,CA:true",
              "-addext", "keyUsage=critical,keyCertSign,cRLSign"], d)
        _run(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
              "-keyout", "inter.key", "-out", "inter.csr",
              "-subj", "/CN=calprobe test intermediate CA"], d)
        _run(["x509", "-req", "-in", "inter.csr", "-CA", "root.pem", "-CAkey", "root.key",
              "-CAcreateserial", "-out", "inter.pem", "-days", "1825",
              "-extfile", "ca.cnf", "-extensions", "v3_ca"], d)
        self.root = os.path.join(d, "root.pem")
        self.inter = os.path.join(d, "inter.pem")

    def leaf(self, name, san, start, end):
        """Issues a leaf for `san` ("IP:127.0.0.1,DNS:localhost") valid from
        `start` to `end` (YYYYMMDDHHMMSSZ). Returns (cert, key, chain) paths;
        chain = leaf + intermediate, as a correct server presents it."""
        d = self.dir
        key, csr, cert = f"{name}.key", f"{name}.csr", f"{name}.pem"
        ext = f"{name}.ext"
        with open(os.path.join(d, ext), "w") as f:
            f.write(f"basicConstraints=CA:false\nkeyUsage=digitalSignature\n"
                    f"extendedKeyUsage=serverAuth\nsubjectAltName={san}\n")
        _run(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
              "-keyout", key, "-out", csr, "-subj", f"/CN={name}"], d)
        _run(["ca", "-batch", "-config", "ca.cnf", "-notext", "-in", csr, "-out", cert,
              "-startdate", start, "-enddate", end, "-extfile", ext], d)
        chain = os.path.join(d, f"{name}-chain.pem")
        with open(chain, "w") as out:
            for p in (cert, "inter.pem"):
                with open(os.path.join(d, p)) as f:
                    out.write(f.read())
        return os.path.join(d, cert), os.path.join(d, key), chain

    def self_signed(self, name, san, days):
        d = self.dir
        _run(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
              "-keyout", f"{name}.key", "-out", f"{name}.pem", "-days", str(days),
              "-subj", f"/CN={name}", "-addext", f"subjectAltName={san}"], d)
        return os.path.join(d, f"{name}.pem"), os.path.join(d, f"{name}.key")


def asn1_time(dt):
    """A datetime (UTC) as openssl ca's YYYYMMDDHHMMSSZ."""
    return dt.strftime("%Y%m%d%H%M%SZ")
