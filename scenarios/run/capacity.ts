import type { CapacityModel, LedgerSnapshot } from "../../reports/format.ts";

// The capacity model in summary.json: the run's rates turned into per-hour and per-second figures, per user and
// per room, and extrapolated to larger populations, with every formula written out with its numbers so a
// planner can check (and redo) the arithmetic:
//
//   billable_per_hour        = ledger rows / duration_s × 3600          (also by billing mode and by vendor)
//   cdn_egress_mbps          = bytes downloaded × 8 / duration_s / 10^6
//   media_relay_mbps         = (bytes published + bytes relayed to listeners) × 8 / duration_s / 10^6
//   per_user.X               = X / average active users                (users = VUs in the time series)
//   per_room.X               = X / average active rooms                (rooms = ⌈users / usersPerRoom⌉)
//   at R rooms: X            = per_room.X × R

export interface CapacityInput {
  durationS: number;
  ledger: LedgerSnapshot["totals"];
  bytesDownloaded: number;
  mediaBytes: number;
  /** Active VUs per interval (the time series). */
  vusSeries: number[];
  usersPerRoom: number;
  extrapolateRooms: number[];
  knee: CapacityModel["knee"];
}

export interface Extrapolation {
  rooms: number;
  billable_per_hour: number;
  cdn_egress_mbps: number;
  media_relay_mbps: number;
}

export type RunCapacity = CapacityModel & { extrapolated: Extrapolation[] };

const r3 = (v: number) => Math.round(v * 1000) / 1000;
const perHour = (n: number, s: number) => (s > 0 ? (n / s) * 3600 : 0);
const mbps = (bytes: number, s: number) => (s > 0 ? (bytes * 8) / s / 1e6 : 0);
const per = (v: number, n: number) => (n > 0 ? v / n : 0);

export function capacityModel(i: CapacityInput): RunCapacity {
  const s = i.durationS;
  const total = perHour(i.ledger.billable, s);
  const byMode = Object.fromEntries(Object.entries(i.ledger.by_mode).map(([k, n]) => [k, r3(perHour(n, s))]));
  const byVendor = Object.fromEntries(
    Object.entries(i.ledger.by_vendor).map(([k, n]) => [k, r3(perHour(n, s))]),
  );
  const cdn = mbps(i.bytesDownloaded, s);
  const media = mbps(i.mediaBytes, s);
  const users = i.vusSeries.length > 0 ? i.vusSeries.reduce((a, v) => a + v, 0) / i.vusSeries.length : 0;
  const rooms =
    i.vusSeries.length > 0
      ? i.vusSeries.reduce((a, v) => a + Math.ceil(v / i.usersPerRoom), 0) / i.vusSeries.length
      : 0;
  const perRoom = {
    billable_per_hour: r3(per(total, rooms)),
    cdn_mbps: r3(per(cdn, rooms)),
    media_mbps: r3(per(media, rooms)),
  };
  const f = (v: number) => String(r3(v));
  const formulas = s <= 0 ? ["the run lasted no time: every rate is 0"] : [];
  formulas.push(
    `billable_per_hour = ledger_rows / duration_s × 3600 = ${i.ledger.billable} / ${f(s)} × 3600 = ${f(total)}`,
    `cdn_egress_mbps = bytes_downloaded × 8 / duration_s / 1e6 = ${i.bytesDownloaded} × 8 / ${f(s)} / 1e6 = ${f(cdn)}`,
    `media_relay_mbps = media_bytes × 8 / duration_s / 1e6 = ${i.mediaBytes} × 8 / ${f(s)} / 1e6 = ${f(media)}`,
    `users = mean active VUs over ${i.vusSeries.length} intervals = ${f(users)}; rooms = mean ⌈VUs / ${i.usersPerRoom}⌉ = ${f(rooms)}`,
    `per_user.X = X / ${f(users)}; per_room.X = X / ${f(rooms)}`,
  );
  const extrapolated = i.extrapolateRooms.map((R) => {
    formulas.push(
      `at ${R} rooms: billable_per_hour = ${perRoom.billable_per_hour} × ${R}; cdn_egress_mbps = ${perRoom.cdn_mbps} × ${R}; media_relay_mbps = ${perRoom.media_mbps} × ${R}`,
    );
    return {
      rooms: R,
      billable_per_hour: r3(perRoom.billable_per_hour * R),
      cdn_egress_mbps: r3(perRoom.cdn_mbps * R),
      media_relay_mbps: r3(perRoom.media_mbps * R),
    };
  });
  return {
    billable_per_hour: { total: r3(total), by_mode: byMode, by_vendor: byVendor },
    cdn_egress_mbps: r3(cdn),
    media_relay_mbps: r3(media),
    per_user: {
      billable_per_hour: r3(per(total, users)),
      cdn_mbps: r3(per(cdn, users)),
      media_mbps: r3(per(media, users)),
    },
    per_room: perRoom,
    formulas,
    knee: i.knee,
    extrapolated,
  };
}
