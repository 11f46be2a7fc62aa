// The media player's public constants (spec §6).

export const ZegoMediaPlayerState = { NoPlay: 0, Playing: 1, Pausing: 2, PlayEnded: 3 } as const;
export type ZegoMediaPlayerState = (typeof ZegoMediaPlayerState)[keyof typeof ZegoMediaPlayerState];

/** Players per engine; one more is 1008030. */
export const MAX_MEDIA_PLAYERS = 4;
/** The SDK's default play and publish volume. */
export const DEFAULT_PLAYER_VOLUME = 60;
/** Default onMediaPlayerPlayingProgress interval, ms of play. */
export const DEFAULT_PROGRESS_INTERVAL_MS = 1000;
