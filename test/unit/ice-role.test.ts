// ICE role selection and ICE-lite flag mapping.
import { expect, test } from "bun:test";
import { iceControlling, liteSides } from "../../src/ice/role.ts";

test("offerer controls between full agents; full controls lite; ICE-reverse flips", () => {
  expect(iceControlling({ weOffer: true, weLite: false, peerLite: false })).toBe(true);
  expect(iceControlling({ weOffer: false, weLite: false, peerLite: false })).toBe(false);
  expect(iceControlling({ weOffer: false, weLite: false, peerLite: true })).toBe(true);
  expect(iceControlling({ weOffer: true, weLite: true, peerLite: false })).toBe(false);
  expect(iceControlling({ weOffer: true, weLite: true, peerLite: true })).toBe(true);
  expect(iceControlling({ weOffer: true, weLite: false, peerLite: false, reverse: true })).toBe(false);
});

test("ICE-lite forward/backward/both/off and absent", () => {
  const none = { offerer: false, answerer: false };
  expect(liteSides("forward", none)).toEqual({ offerer: false, answerer: true });
  expect(liteSides("backward", none)).toEqual({ offerer: true, answerer: false });
  expect(liteSides("both", none)).toEqual({ offerer: true, answerer: true });
  expect(liteSides("off", { offerer: true, answerer: true })).toEqual(none);
  expect(liteSides(undefined, { offerer: true, answerer: false })).toEqual({ offerer: true, answerer: false });
});
