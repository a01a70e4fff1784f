// Tests that need a tool from outside the repository: skipped, with the reason, when it is missing, except in
// the full run (scripts/test-all.sh installs everything and sets RTPENGINE_TS_REQUIRE_ALL=1), where it fails.

/** True when the test should be skipped for `reason`; throws instead in the full run, so a missing tool is a failure there. */
export function missing(absent: boolean, reason: string): boolean {
  if (!absent) return false;
  if (process.env["RTPENGINE_TS_REQUIRE_ALL"] === "1") throw new Error(`${reason}: required in the full test run (scripts/test-all.sh)`);
  console.warn(`skipped: ${reason}`);
  return true;
}
