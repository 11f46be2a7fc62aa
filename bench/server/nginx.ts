// nginx as the CDN's reference: serving one directory on a loopback port from a private prefix (config, pid,
// logs and temp paths in a temporary directory, so it needs no system configuration and leaves nothing
// behind), in the foreground, one worker, access log off, Debian's default sendfile on.

import { type ChildProcess, spawn } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findOnPath } from "../runner/peers.ts";
import { stopChild } from "./servers.ts";

export interface Nginx {
  url: string;
  /** The served directory: files written here are served at url + "/" + name. */
  root: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** A port the kernel just handed out and released: free now (a tiny race with other binders, on loopback). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const addr = s.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export function nginxConfig(prefix: string, port: number): string {
  return `daemon off;
worker_processes 1;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  keepalive_timeout 60s;
  types { audio/wav wav; }
  default_type application/octet-stream;
  client_body_temp_path ${prefix}/tmp/body;
  proxy_temp_path ${prefix}/tmp/proxy;
  fastcgi_temp_path ${prefix}/tmp/fastcgi;
  uwsgi_temp_path ${prefix}/tmp/uwsgi;
  scgi_temp_path ${prefix}/tmp/scgi;
  server {
    listen 127.0.0.1:${port};
    root ${prefix}/www;
  }
}
`;
}

/** Starts nginx serving `files` (name -> bytes); resolves once it answers. `cpus` pins it with taskset. */
export async function startNginx(
  files: Record<string, Uint8Array>,
  opts: { cpus?: string } = {},
): Promise<Nginx> {
  const prefix = mkdtempSync(join(tmpdir(), "ktv-bench-nginx-"));
  // A root master hands requests to an unprivileged worker: it must be able to read the files.
  chmodSync(prefix, 0o755);
  const root = join(prefix, "www");
  mkdirSync(root, { mode: 0o755 });
  mkdirSync(join(prefix, "tmp"));
  for (const [name, bytes] of Object.entries(files)) writeFileSync(join(root, name), bytes, { mode: 0o644 });
  const port = await freePort();
  writeFileSync(join(prefix, "nginx.conf"), nginxConfig(prefix, port));
  const exe = findOnPath("nginx") ?? "nginx";
  const argv = [exe, "-p", prefix, "-e", join(prefix, "error.log"), "-c", join(prefix, "nginx.conf")];
  const cmd = opts.cpus && findOnPath("taskset") ? ["taskset", "-c", opts.cpus, ...argv] : argv;
  const child = spawn(cmd[0]!, cmd.slice(1), { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (c: Buffer) => {
    stderr += c.toString();
  });
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    await stopChild(child);
    rmSync(prefix, { recursive: true, force: true });
  };
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`nginx exited ${child.exitCode}: ${stderr.slice(0, 300)}`);
    }
    try {
      const r = await fetch(`${url}/`, { method: "HEAD" });
      await r.arrayBuffer();
      return { url, root, child, stop };
    } catch {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`nginx did not answer on ${url} in 10 s: ${stderr.slice(0, 300)}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
