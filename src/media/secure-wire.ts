// Plugs SRTP/DTLS (SecureMedia) and ICE (IceMedia) into a relay: one certificate per process, STUN to the agents, DTLS kicked when ICE selects.
import { loadSecureLibraries } from "../crypto/session.ts";
import type { ShimPortAllocator } from "./allocator.ts";
import { IceMedia, iceTimingFromEnv } from "./ice-media.ts";
import type { MediaConfig } from "./plane.ts";
import type { MediaRelay } from "./relay.ts";
import { SecureMedia } from "./secure.ts";

export function wireSecureMedia(relay: MediaRelay, ports: ShimPortAllocator, shimPath: string, config: MediaConfig, log?: { info(m: string): void; warning(m: string): void }): void {
  try {
    const libs = loadSecureLibraries(shimPath, {
      cipher: config.dtlsCertCipher,
      rsaKeySize: config.dtlsRsaKeySize,
      signature: config.dtlsSignature,
      ciphers: config.dtlsCiphers || undefined,
    });
    relay.secure = new SecureMedia(libs, { mtu: config.dtlsMtu, route: (m, rtcp) => relay.routeTo(m, rtcp), log: (m) => log?.warning(m) });
    log?.info(`SRTP/DTLS ready (${libs.path}), DTLS fingerprint ${libs.dtls.certificate.fingerprintValue("sha-256")}`);
    // a fresh certificate once half of its lifetime is gone; associations keep the one they were made with
    const rotate = setInterval(() => {
      try {
        if (libs.dtls.rotateIfDue()) log?.info(`DTLS certificate rotated, fingerprint ${libs.dtls.certificate.fingerprintValue("sha-256")}`);
      } catch (e) {
        log?.warning(`DTLS certificate rotation failed: ${(e as Error).message}`);
      }
    }, 3600_000);
    (rotate as { unref?: () => void }).unref?.();
  } catch (e) {
    log?.warning(`SRTP/DTLS unavailable, secure media is not translated: ${(e as Error).message}`);
  }
  const ice = new IceMedia({
    socketAt: (address, port) => ports.socket(address, port),
    onSelected: (call, mono, m, rtcpPort, remote) => {
      relay.setEndpoint(call, mono, m, rtcpPort, remote);
      relay.secure?.kick(m);
    },
    // consent lost, or a restart's old pair ran out: its rules go (the slow path then sends nothing there)
    onLost: (call) => relay.refresh(call),
    log: (m) => log?.info(m),
    timing: iceTimingFromEnv(),
  });
  relay.ice = ice;
  relay.stunHandler = (_call, media, _rtcp, sock, packet) => ice.stun(media, sock, packet);
}
