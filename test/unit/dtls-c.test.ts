// DTLS engine C checks: ossl.h prototypes against <openssl/*.h>, and the ASan/UBSan fuzz harness (ffi/dtls/test/run.sh).
import { expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { missing } from "../helpers/requires.ts";

const root = join(import.meta.dir, "..", "..");
const haveTools = !missing(Bun.which("gcc") === null || !existsSync("/usr/include/openssl/ssl.h"), "dtls-c: gcc or the OpenSSL headers (libssl-dev) are missing");

test.skipIf(!haveTools)("ffi/dtls/test/run.sh: ABI check and sanitized fuzz pass", () => {
  const r = Bun.spawnSync(["bash", join(root, "ffi/dtls/test/run.sh")], { stdout: "pipe", stderr: "pipe" });
  const out = r.stdout.toString() + r.stderr.toString();
  if (r.exitCode !== 0) console.log(out);
  expect(out).toMatch(/^ok {3}abi_check$/m);
  expect(out).toMatch(/^ok {3}abi_check_detects_mismatch$/m);
  expect(out).toMatch(/^ok {3}fuzz$/m);
  expect(r.exitCode).toBe(0);
}, 120000);
