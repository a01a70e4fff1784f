// The ICE package's public surface for the media plane and the call engine (SDP helpers stay in ./sdp.ts).
export { IceAgent, DEFAULT_TIMING } from "./agent.ts";
export type { IceAgentOptions, IceCounters, IceCredentials, IceEvent, IceTiming, LocalInterface, PairState, RemoteDescription, Transmit } from "./agent.ts";
export { IceRunner } from "./runner.ts";
export type { IceRunnerOptions } from "./runner.ts";
export { candidatePriority, formatCandidate, pairPriority, parseCandidate } from "./candidate.ts";
export type { Candidate, CandidateType } from "./candidate.ts";
export { iceControlling, liteSides } from "./role.ts";
export type { IceLiteFlag, RoleInput } from "./role.ts";
export { looksLikeStun, parseStun, stunStats } from "./stun.ts";
export type { IceAddr } from "./addr.ts";
