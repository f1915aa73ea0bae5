/** Build dist/ first when the sources changed (a no-op otherwise): the tests' server serves
 * the build, so a stale one would test old code. */
import { execFileSync } from "node:child_process";
import path from "node:path";
import { REPO_ROOT } from "./server";

export default function globalSetup(): void {
  execFileSync(path.join(REPO_ROOT, "scripts", "build_web.sh"), { stdio: "inherit" });
}
