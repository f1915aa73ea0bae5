/**
 * A real Cordon server for the browser tests: `cordon-server serve` on 127.0.0.1 and a free
 * port, over a fresh SQLite database in a temporary directory, serving this client's `dist/`.
 * Users are created with the admin CLI (`cordon-server create-user`), as an operator would.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const HERE = path.dirname(fileURLToPath(import.meta.url));
export const WEB_ROOT = path.resolve(HERE, "../..");
export const REPO_ROOT = path.resolve(WEB_ROOT, "../..");
const SERVER_BIN = process.env.CORDON_SERVER_BIN ?? path.join(REPO_ROOT, ".venv/bin/cordon-server");
export const ORGANISATION = "Browser Test Customs";

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      const port = typeof address === "object" && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

/** `cordon-server serve` on 127.0.0.1:`port`, its output collected for failure messages. */
function serve(port: string, env: NodeJS.ProcessEnv, dir: string, output: string[]): ChildProcess {
  const child = spawn(SERVER_BIN, ["serve", "--host", "127.0.0.1", "--port", port], { env, cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout?.on("data", (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => output.push(chunk.toString()));
  return child;
}

export class CordonServer {
  private constructor(
    readonly base: string,
    private readonly env: NodeJS.ProcessEnv,
    private child: ChildProcess,
    private readonly dir: string,
    private readonly output: string[],
  ) {}

  static async start(): Promise<CordonServer> {
    const dist = path.join(WEB_ROOT, "dist");
    if (!existsSync(path.join(dist, "index.html"))) {
      throw new Error(`no build in ${dist}: run \`npm run build\` first`);
    }
    if (!existsSync(SERVER_BIN)) throw new Error(`no ${SERVER_BIN}: run scripts/bootstrap.sh first`);
    const dir = mkdtempSync(path.join(tmpdir(), "cordon-web-"));
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      CORDON_ENVIRONMENT: "test",
      CORDON_DATABASE_URL: `sqlite+aiosqlite:///${path.join(dir, "cordon.db")}`,
      CORDON_SECRET_KEY: "browser-test-secret-0123456789abcdef0123456789",
      CORDON_SEED_DEMO: "false",
      CORDON_BLOB_DIR: path.join(dir, "blobs"),
      CORDON_WEB_DIST_DIR: dist,
      CORDON_ALLOWED_ORIGINS: JSON.stringify([base]),
      CORDON_LOG_LEVEL: "WARNING",
      // Every browser logs in from 127.0.0.1: the per-address limit is not what these test.
      CORDON_ADDRESS_MAX_FAILURES: "1000",
      COLUMNS: "200",
      NO_COLOR: "1",
    };
    delete env.CORDON_REDIS_URL; // one process: the in-process broker
    await run(SERVER_BIN, ["migrate"], { env, cwd: dir });
    await run(SERVER_BIN, ["create-org", ORGANISATION, "--country", "BE", "--region", "EUR"], { env, cwd: dir });
    const output: string[] = [];
    const server = new CordonServer(base, env, serve(String(port), env, dir, output), dir, output);
    await server.ready();
    return server;
  }

  private async ready(): Promise<void> {
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (this.child.exitCode !== null) break;
      try {
        if ((await fetch(`${this.base}/healthz`)).ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`cordon-server did not start:\n${this.output.join("")}`);
  }

  /** `cordon-server create-user …`: the one-time enrolment code it prints. */
  async createUser(username: string, options: { admin?: boolean; displayName?: string } = {}): Promise<string> {
    const args = ["create-user", username, "--organisation", ORGANISATION, "--display-name", options.displayName ?? `Officer ${username}`];
    if (options.admin) args.push("--admin");
    const { stdout } = await run(SERVER_BIN, args, { env: this.env, cwd: this.dir });
    const code = /(enrol_[A-Za-z0-9_-]+)/.exec(stdout.replace(/\x1b\[[0-9;]*m/g, ""))?.[1];
    if (!code) throw new Error(`no enrolment code in: ${stdout}`);
    return code;
  }

  /** A user enrolled through the API (no TOTP), for tests about what comes after. */
  async enrolledUser(username: string, password: string): Promise<void> {
    const code = await this.createUser(username);
    const answer = await fetch(`${this.base}/api/v1/auth/enrolment/complete`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ code, password, totp_code: null }),
    });
    if (!answer.ok) throw new Error(`enrolment failed: ${answer.status} ${await answer.text()}`);
  }

  /** Stop the server process; `resume` brings it back on the same port and database. */
  async halt(): Promise<void> {
    const exited = new Promise((resolve) => this.child.once("exit", resolve));
    this.child.kill("SIGTERM");
    await exited;
  }

  async resume(): Promise<void> {
    this.child = serve(new URL(this.base).port, this.env, this.dir, this.output);
    await this.ready();
  }

  /** `cordon-server ARGS…` against this server's database: what it printed (feed tests). */
  async admin(...args: string[]): Promise<string> {
    const { stdout } = await run(SERVER_BIN, args, { env: this.env, cwd: this.dir });
    return stdout.replace(/\x1b\[[0-9;]*m/g, "");
  }

  /** The SQLite file the server stores in (the feed test tampers a row in it). */
  get database(): string {
    return path.join(this.dir, "cordon.db");
  }

  /** The library's blob directory (CORDON_BLOB_DIR; the library test tampers a blob in it). */
  get blobDir(): string {
    return path.join(this.dir, "blobs");
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null) {
      const exited = new Promise((resolve) => this.child.once("exit", resolve));
      this.child.kill("SIGTERM");
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
      if (this.child.exitCode === null) this.child.kill("SIGKILL");
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
