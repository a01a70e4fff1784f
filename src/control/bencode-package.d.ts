// Types for the bencode 4 package (it ships none); not named bencode.d.ts, which would pair with ./bencode.ts and be ignored.
declare module "bencode" {
  interface Bencode {
    encode(data: unknown): Uint8Array;
    decode(data: Uint8Array, start?: number, end?: number): unknown;
  }
  const bencode: Bencode;
  export default bencode;
}
