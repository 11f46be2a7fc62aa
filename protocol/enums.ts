// The SDK's V2 integer enums (C values). VendorID 3 is unused on purpose: the fourth vendor is 4.
export const BillingMode = { Count: 0, User: 1, Room: 2, Master: 3 } as const;
export type BillingMode = (typeof BillingMode)[keyof typeof BillingMode];

export const VendorId = { Default: 0, Vendor1: 1, Vendor2: 2, Vendor3: 4 } as const;
export type VendorId = (typeof VendorId)[keyof typeof VendorId];
export const VENDOR_IDS: readonly VendorId[] = [0, 1, 2, 4];

export const ResourceType = {
  Song: 0,
  Accompaniment: 1,
  AccompanimentClip: 2,
  AccompanimentSegment: 3,
} as const;
export type ResourceType = (typeof ResourceType)[keyof typeof ResourceType];

export const Quality = { Normal: 0, HQ: 1, SQ: 2 } as const;
export type Quality = (typeof Quality)[keyof typeof Quality];
export const QUALITY_NAMES = ["normal", "hq", "sq"] as const;
export type QualityName = (typeof QUALITY_NAMES)[number];

export const SceneId = { None: 0, VoiceChat: 1, LiveKtv: 2, LiveBgm: 3, GrabMic: 4 } as const;
