// A measurement, run by hand: what the reference client's two media socket options (MediaSocket.open's
// `framedWrites`, client-frame-writer.ts; `readPackets`, server-frame-reader.ts) do to the SIMULATOR's CPU in
// rooms-250's relay shape, isolated from the mixing and everything else a pipeline VU does (issue 10: in
// thread-cost.ts the embedded simulator's CPU rose with the writer on while socket-floor.ts priced it a saving).
//
//   node --import tsx bench/harness/writer-relay-cost.ts [--rooms 40] [--seconds 6] [--rounds 5]
//        [--modes ws,framed,read,both] [--tcp]
//
// One simulator process (`ktv sim`, its Unix domain socket as in rooms-250 unless --tcp), one load process per
// mode, each holding `rooms` rooms of 1 publisher + 3 listeners through the real MediaSocket with that mode's
// options. In each round every mode in turn publishes for `--seconds`: a 320-byte packet (Opus at 128 kbit/s,
// 20 ms) per publisher every 20 ms, the publishers spread over five 2 ms lanes as the runner's ticker does.
// Per relayed packet (a packet received by a listener): the simulator's CPU (user, system) and how often its
// threads were put on a CPU (schedstat: wake-ups), and the load process's CPU. Medians over rounds, with the
// load average. Load goes to 127.0.0.1 / a socket in a temporary directory only.
import { type ChildProcess, fork, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Codec, encodeFrame, MAX_FRAME_BYTES, nowMicros, streamHash } from "../../protocol/media.ts";
import { MediaSocket, mediaUrl } from "../../reference/engine/media-socket.ts";

const APP = { app_id: 1000000001, app_sign: "0123456789abcdef".repeat(4) };
const PERIOD_MS = 20;
const LANES = 5;
const LISTENERS = 3;
const PAYLOAD = new Uint8Array(320).map((_, i) => (i * 31) & 255);

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1]! : fallback;
}

type Mode = "ws" | "framed" | "read" | "both";
const MODES: Record<Mode, { framedWrites: boolean; readPackets: boolean }> = {
  ws: { framedWrites: false, readPackets: false },
  framed: { framedWrites: true, readPackets: false },
  read: { framedWrites: false, readPackets: true },
  both: { framedWrites: true, readPackets: true },
};

// ---- the load process ----------------------------------------------------------------------------------------

const silent = { debug() {}, info() {}, warn() {}, error() {} } as never;

async function loadProcess(url: string, mode: Mode, nRooms: number): Promise<void> {
  const opts = MODES[mode];
  let received = 0;
  const closes: string[] = [];
  const pubs: { sock: MediaSocket; hash: number; seq: number }[] = [];
  const open = (onFrame: (d: Buffer) => void) =>
    MediaSocket.open(
      url,
      {
        onPush() {},
        onFrame,
        onClose(code, reason) {
          closes.push(`${code} ${reason}`);
        },
      },
      { timeoutMs: 10_000, logger: silent, ...opts },
    );
  const login = async (s: MediaSocket, room: string, user: string) => {
    const r = await s.request(
      { type: "login", room_id: room, user_id: user, user_name: user, ...APP },
      10_000,
    );
    if (r.type !== "login_ok") throw new Error(`login: ${JSON.stringify(r)}`);
  };
  for (let r = 0; r < nRooms; r++) {
    const room = `wrc-${mode}-${r}`;
    const stream = `${room}-s`;
    const pub = await open(() => {});
    await login(pub, room, `${room}-singer`);
    const ok = await pub.request({ type: "publish", stream_id: stream }, 10_000);
    if (ok.type !== "publish_ok") throw new Error(`publish: ${JSON.stringify(ok)}`);
    for (let l = 0; l < LISTENERS; l++) {
      const s = await open(() => {
        received++;
      });
      await login(s, room, `${room}-fan-${l}`);
      const p = await s.request({ type: "play", stream_id: stream }, 10_000);
      if (p.type !== "play_ok") throw new Error(`play: ${JSON.stringify(p)}`);
    }
    pubs.push({ sock: pub, hash: streamHash(stream), seq: 0 });
  }
  const out = new Uint8Array(MAX_FRAME_BYTES);
  const send = (p: (typeof pubs)[number]) => {
    const n = encodeFrame(
      out,
      {
        flags: 0,
        codec: Codec.Opus,
        streamHash: p.hash,
        seq: p.seq++,
        captureUs: nowMicros(),
        sampleRate: 48_000,
        channels: 2,
      },
      PAYLOAD,
    );
    return p.sock.sendFrame(out.subarray(0, n)) ? 1 : 0;
  };
  const publish = (seconds: number) =>
    new Promise<{ sent: number; received: number; cpuUs: number; closes: string[] }>((resolve) => {
      const c0 = process.cpuUsage();
      const r0 = received;
      let sent = 0;
      const t0 = performance.now();
      const endAt = t0 + seconds * 1000;
      const due = pubs.map((_, i) => t0 + (i % LANES) * (PERIOD_MS / LANES));
      const tick = () => {
        const now = performance.now();
        for (let i = 0; i < pubs.length; i++) {
          while (due[i]! <= now && due[i]! < endAt) {
            sent += send(pubs[i]!);
            due[i]! += PERIOD_MS;
          }
        }
        if (now < endAt) setTimeout(tick, 1);
        // Stragglers in flight: 100 ms, then count.
        else
          setTimeout(() => {
            const c = process.cpuUsage(c0);
            resolve({ sent, received: received - r0, cpuUs: c.user + c.system, closes: closes.slice(0, 3) });
          }, 100);
      };
      tick();
    });
  process.send!({ ready: true });
  process.on("message", async (m: { publish?: number; quit?: boolean }) => {
    if (m.quit) process.exit(0);
    if (m.publish !== undefined) process.send!(await publish(m.publish));
  });
}

// ---- the parent ----------------------------------------------------------------------------------------------

const TICK_S = 0.01;

/** [user s, system s, runs] of every thread of process `pid`. */
function processCpu(pid: number): [number, number, number] {
  let user = 0;
  let sys = 0;
  let runs = 0;
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${t}/stat`, "latin1");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      user += Number(f[11]) * TICK_S;
      sys += Number(f[12]) * TICK_S;
      runs += Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, "latin1").split(" ")[2]);
    } catch {
      // The task ended between the listing and the read.
    }
  }
  return [user, sys, runs];
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

function startSim(dir: string, tcp: boolean): Promise<{ child: ChildProcess; url: string }> {
  const root = fileURLToPath(new URL("../..", import.meta.url));
  const sock = join(dir, "sim.sock");
  const args = ["--import", "tsx", "scenarios/cli/ktv.ts", "sim", "--port", "0", "--data-dir", ":memory:"];
  args.push("--log-level", "warn", ...(tcp ? [] : ["--socket", sock]));
  const child = spawn(process.execPath, args, { cwd: root, stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    let buf = "";
    child.stdout!.on("data", (c: Buffer) => {
      buf += c.toString();
      const m = /\{"listening":"([^"]+)"/.exec(buf);
      if (m?.[1]) {
        child.stdout!.removeAllListeners("data");
        child.stdout!.resume();
        resolve({ child, url: tcp ? mediaUrl(m[1]) : mediaUrl(m[1], sock) });
      }
    });
    child.on("exit", (code) => reject(new Error(`ktv sim exited ${code}`)));
  });
}

async function main(): Promise<void> {
  const rooms = Number(arg("--rooms", "40"));
  const seconds = Number(arg("--seconds", "6"));
  const rounds = Number(arg("--rounds", "5"));
  const modes = arg("--modes", "ws,framed").split(",") as Mode[];
  for (const m of modes) if (!(m in MODES)) throw new Error(`unknown mode ${m}`);
  const dir = mkdtempSync(join(tmpdir(), "ktv-wrc-"));
  const sim = await startSim(dir, process.argv.includes("--tcp"));
  const loads = new Map<Mode, ChildProcess>();
  const ask = <T>(c: ChildProcess, m: unknown) =>
    new Promise<T>((resolve) => {
      c.once("message", (x) => resolve(x as T));
      if (m !== null) c.send(m as never);
    });
  try {
    for (const m of modes) {
      const c = fork(fileURLToPath(import.meta.url), ["--load", sim.url, m, String(rooms)], {
        execArgv: ["--import", "tsx"],
      });
      await ask(c, null);
      loads.set(m, c);
    }
    process.stdout.write(
      `writer-relay-cost: ${rooms} rooms x (1 publisher + ${LISTENERS} listeners) per mode, ${seconds} s per step, ${rounds} rounds, load ${loadavg()
        .map((v) => v.toFixed(1))
        .join(" ")}\n`,
    );
    const rows = new Map<Mode, { sim: number; user: number; sys: number; runs: number; load: number }[]>(
      modes.map((m) => [m, []]),
    );
    for (let r = 0; r < rounds; r++) {
      for (const m of modes) {
        const c0 = processCpu(sim.child.pid!);
        const res = await ask<{ sent: number; received: number; cpuUs: number; closes: string[] }>(
          loads.get(m)!,
          {
            publish: seconds,
          },
        );
        const c1 = processCpu(sim.child.pid!);
        if (res.closes.length > 0) process.stdout.write(`${m}: sockets closed: ${res.closes.join("; ")}\n`);
        const per = (x: number) => (x * 1e6) / Math.max(1, res.received);
        const row = {
          sim: per(c1[0] - c0[0] + c1[1] - c0[1]),
          user: per(c1[0] - c0[0]),
          sys: per(c1[1] - c0[1]),
          runs: (c1[2] - c0[2]) / Math.max(1, res.received),
          load: res.cpuUs / Math.max(1, res.received),
        };
        rows.get(m)!.push(row);
        process.stdout.write(
          `round ${r + 1} ${m.padEnd(6)}: sent ${res.sent}, relayed ${res.received} (${((100 * res.received) / Math.max(1, res.sent * LISTENERS)).toFixed(1)}%); simulator ${row.sim.toFixed(2)} µs/packet (user ${row.user.toFixed(2)}, sys ${row.sys.toFixed(2)}), ${row.runs.toFixed(3)} runs/packet; load process ${row.load.toFixed(2)} µs/packet; load avg ${loadavg()[0]!.toFixed(1)}\n`,
        );
      }
    }
    process.stdout.write("\nmedians per relayed packet (received by a listener):\n");
    for (const m of modes) {
      const rr = rows.get(m)!;
      const med = (k: "sim" | "user" | "sys" | "runs" | "load") => median(rr.map((x) => x[k]));
      process.stdout.write(
        `  ${m.padEnd(6)} simulator ${med("sim").toFixed(2)} µs (user ${med("user").toFixed(2)}, sys ${med("sys").toFixed(2)}), ${med("runs").toFixed(3)} runs; load process ${med("load").toFixed(2)} µs\n`,
      );
    }
  } finally {
    for (const c of loads.values()) c.send({ quit: true });
    sim.child.kill("SIGTERM");
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === "--load") {
  await loadProcess(process.argv[3]!, process.argv[4] as Mode, Number(process.argv[5]));
} else {
  await main();
}
