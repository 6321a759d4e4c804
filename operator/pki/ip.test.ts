import { bytesToIp, canonicalIp, ipToBytes } from "./ip";

describe("ipToBytes", () => {
  it.each<[string, string, number[] | undefined]>([
    ["an IPv4 address is four bytes", "10.0.0.7", [10, 0, 0, 7]],
    ["the IPv6 loopback is fifteen zeros and a one", "::1", [...new Array<number>(15).fill(0), 1]],
    [
      "a compressed IPv6 address is expanded",
      "fd00::7",
      [0xfd, 0, ...new Array<number>(13).fill(0), 7],
    ],
    [
      "an IPv4-mapped IPv6 address keeps the IPv4 bytes at the end",
      "::ffff:10.1.2.3",
      [...new Array<number>(10).fill(0), 0xff, 0xff, 10, 1, 2, 3],
    ],
    ["an IPv4 octet above 255 is not an address", "10.0.0.256", undefined],
    ["a host name is not an address", "localhost", undefined],
    ["a zoned IPv6 address is refused", "fe80::1%eth0", undefined],
  ])("%s", (_, text, expected) => {
    const bytes = ipToBytes(text);
    expect(bytes === undefined ? undefined : Array.from(bytes)).toEqual(expected);
  });
});

describe("bytesToIp", () => {
  it.each<[string, number[], string | undefined]>([
    ["four bytes are a dotted quad", [192, 168, 0, 1], "192.168.0.1"],
    [
      "the longest zero run is compressed",
      [0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1],
      "2001:db8::1:0:0:1",
    ],
    [
      "a single zero group is not compressed",
      [0x20, 1, 0xd, 0xb8, 0, 0, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1],
      "2001:db8:0:1:1:1:1:1",
    ],
    [
      "an IPv4-mapped address keeps the dotted quad",
      [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1],
      "::ffff:10.0.0.1",
    ],
    ["five bytes are not an address", [1, 2, 3, 4, 5], undefined],
  ])("%s", (_, bytes, expected) => {
    expect(bytesToIp(new Uint8Array(bytes))).toBe(expected);
  });
});

describe("canonicalIp", () => {
  it.each([
    ["upper-case IPv6 becomes lower case", "FD00:0:0:0:0:0:0:7", "fd00::7"],
    ["an IPv4 address stays as it is", "10.0.0.7", "10.0.0.7"],
    ["garbage has no canonical form", "nope", undefined],
  ])("%s", (_, text, expected) => {
    expect(canonicalIp(text)).toBe(expected);
  });
});
