#!/usr/bin/python3
"""Our encrypted attachments, opened by an independent implementation.

Runs the unit test binary test_crypto with OEF_ATTACH_VECTORS set to a
fresh directory: its attachment round-trip test leaves there, per size N,
the plaintext (N.plain), our ciphertext (N.cipher) and our EncryptedFile
object (N.json, without "url"). Each is then checked as a receiving
client would: the hash with hashlib, the object against the spec's
shape, and the decryption with matrix-nio's decrypt_attachment (Debian's
python3-matrix-nio, so /usr/bin/python3), which must give the plaintext
back. A wrong ciphertext or hash must make nio refuse. No homeserver
needed.

    attach_nio.py [PATH_TO_test_crypto]   (default build/tests/test_crypto,
                                           or $OEF_TEST_CRYPTO)

Prints 'N passed, M failed' and exits non-zero on failure.
"""
import base64
import hashlib
import json
import os
import subprocess
import sys
import tempfile

from nio.crypto.attachments import decrypt_attachment
from nio.exceptions import EncryptionError

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
SIZES = [0, 1, 15, 16, 17, 5000]   # what test_attachment_roundtrip writes
URLSAFE = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
              "0123456789-_")
STANDARD = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
               "0123456789+/")


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def unb64(s, alphabet):
    check(set(s) <= alphabet, f"{s!r}: not unpadded base64 of one alphabet")
    pad = "=" * (-len(s) % 4)
    if alphabet is URLSAFE:
        return base64.urlsafe_b64decode(s + pad)
    return base64.b64decode(s + pad, validate=True)


def check_vector(d, n):
    with open(os.path.join(d, f"{n}.plain"), "rb") as f:
        plain = f.read()
    with open(os.path.join(d, f"{n}.cipher"), "rb") as f:
        cipher = f.read()
    with open(os.path.join(d, f"{n}.json")) as f:
        info = json.load(f)
    check(len(plain) == n and len(cipher) == n, f"{n}: sizes")

    # The shape the spec gives an EncryptedFile (url is the caller's).
    check(set(info) == {"v", "key", "iv", "hashes"}, f"{n}: members {info}")
    check(info["v"] == "v2", f"{n}: v")
    jwk = info["key"]
    check(jwk == {"kty": "oct", "key_ops": ["encrypt", "decrypt"],
                  "alg": "A256CTR", "k": jwk["k"], "ext": True},
          f"{n}: JWK {jwk}")
    check(len(unb64(jwk["k"], URLSAFE)) == 32, f"{n}: 256-bit key")
    iv = unb64(info["iv"], STANDARD)
    check(len(iv) == 16 and iv[8:] == bytes(8),
          f"{n}: 128-bit iv, counter half zero: {iv.hex()}")
    sha = info["hashes"]["sha256"]
    want = base64.b64encode(hashlib.sha256(cipher).digest()).decode()
    check(sha == want.rstrip("="), f"{n}: sha256 of the ciphertext")

    # nio opens it.
    got = decrypt_attachment(cipher, jwk["k"], sha, info["iv"])
    check(got == plain, f"{n}: nio decrypts to the plaintext")
    if n >= 16:
        check(cipher != plain, f"{n}: ciphertext is not the plaintext")

    # ... and refuses it when the ciphertext or the hash is wrong.
    if n > 0:
        bad = bytearray(cipher)
        bad[n // 2] ^= 1
        try:
            decrypt_attachment(bytes(bad), jwk["k"], sha, info["iv"])
            check(False, f"{n}: nio took a changed ciphertext")
        except EncryptionError:
            pass
    other = base64.b64encode(hashlib.sha256(b"x" + cipher).digest())
    try:
        decrypt_attachment(cipher, jwk["k"], other.decode().rstrip("="),
                           info["iv"])
        check(False, f"{n}: nio took a wrong hash")
    except EncryptionError:
        pass


def main():
    binary = (sys.argv[1] if len(sys.argv) > 1 else
              os.environ.get("OEF_TEST_CRYPTO",
                             os.path.join(ROOT, "build/tests/test_crypto")))
    passed = failed = 0
    with tempfile.TemporaryDirectory(prefix="oef-attach-") as d:
        env = dict(os.environ, OEF_ATTACH_VECTORS=d)
        r = subprocess.run([binary], env=env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, text=True)
        if r.returncode != 0:
            print(r.stderr, file=sys.stderr)
            print(f"FAIL {binary} exited {r.returncode}")
            return 1
        for n in SIZES:
            try:
                check_vector(d, n)
                passed += 1
                print(f"ok   attachment of {n} bytes", flush=True)
            except (AssertionError, EncryptionError, OSError, KeyError,
                    ValueError) as e:
                failed += 1
                print(f"FAIL attachment of {n} bytes: {e!r}", flush=True)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
