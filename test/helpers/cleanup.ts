// Runs in every test file (vitest setupFiles): stops daemons whose test never disposed of them.
import { afterAll } from "vitest";
import { liveFixtures } from "./riff.js";

afterAll(async () => {
  for (const fixture of [...liveFixtures]) await fixture[Symbol.asyncDispose]();
});
